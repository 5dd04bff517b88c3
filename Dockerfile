# One image per program, each with only its own distribution and the contract:
#   docker build --target api   -t switchyard-api:0.1.0 .
#   docker build --target agent -t switchyard-agent:0.1.0 .
#   docker build --target cli   -t switchyard-cli:0.1.0 .
#   docker build --target kube  -t switchyard-kube:0.1.0 .
FROM python:3.11-slim AS base
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
WORKDIR /src
COPY services/contract services/contract
RUN pip install ./services/contract

FROM base AS api
COPY services/api services/api
RUN pip install ./services/api
COPY migrations /app/migrations
ENV SWITCHYARD_MIGRATIONS_DIR=/app/migrations
WORKDIR /app
USER 65534
EXPOSE 8080 9090
CMD ["switchyard-api", "serve"]

FROM base AS agent
COPY services/node-agent services/node-agent
RUN pip install ./services/node-agent
WORKDIR /app
CMD ["switchyard-agent"]

FROM base AS cli
COPY services/cli services/cli
RUN pip install ./services/cli
WORKDIR /app
USER 65534
ENTRYPOINT ["switchyard"]

FROM base AS kube
COPY services/kube-adapter services/kube-adapter
RUN pip install ./services/kube-adapter
WORKDIR /app
USER 65534
ENTRYPOINT ["switchyard-kube"]
