"""One revision per write, several objects under it: the change log never hands a reader half
a revision, and a bulk import still gives every object a revision of its own."""

from __future__ import annotations

from switchyard_api.app import create_app
from switchyard_api.resources.registry import NAMESPACE, NODE, SERVICE
from switchyard_api.writes import Preconditions

from .support import settings_for


def test_a_page_of_the_log_ends_at_a_revision_boundary(database_url: str) -> None:
    app = create_app(settings_for(database_url))
    writer, store = app.state.writer, app.state.store
    writer.create(NAMESPACE, "", {"metadata": {"name": "shop"}})
    for index in range(5):
        spec = {"ports": [{"port": 80 + index}]}
        writer.create(SERVICE, "shop", {"metadata": {"name": f"s{index}"}, "spec": spec})
    before = store.current_revision()
    _, revision = writer.delete(NAMESPACE, "", "shop", Preconditions())
    assert revision == before + 1 == store.current_revision()
    page = store.changes_after(before, limit=2)
    assert [(r.revision, r.kind) for r in page] == [(revision, "Namespace")] + [
        (revision, "Service")
    ] * 5
    assert store.changes_after(revision) == []


def test_bulk_put_gives_each_object_its_own_revision(database_url: str) -> None:
    app = create_app(settings_for(database_url))
    items = [
        (NODE, "", {"metadata": {"name": f"n{i}"}, "spec": {"addresses": [f"192.0.2.{i + 1}"]}})
        for i in range(3)
    ]
    last = app.state.writer.bulk_put(items)
    versions = sorted(r.resource_version for r in app.state.store.list_all("Node"))
    assert versions == [last - 2, last - 1, last]
