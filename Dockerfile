# One image for the API service and the node agent (the compose file picks the command).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services services
COPY proto proto
COPY migrations migrations
RUN pip install --no-cache-dir -e .
ENV SWITCHYARD_MIGRATIONS_DIR=/app/migrations
USER nobody
