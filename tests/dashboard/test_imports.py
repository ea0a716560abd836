"""The Imports page and its worker, end to end on the real database: upload through the form,
the worker's dry run (preview), confirm, the worker's import, history, batch pages, scoping,
bad input, progress readable while an import's transaction is open, stale steps, the API."""
from __future__ import annotations

import html
import io
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from outreach.core.timeutil import utcnow
from outreach.extensions import db
from outreach.registers import jobs, uploads
from outreach.registers.models import ImportBatch, Mark, MarkChange
from outreach.registers.upload_models import ImportUpload
from tests.dashboard.world import World, csrf_token, signed_in_client

DAYS = ["2026-11-02", "2026-11-03"]  # a Monday and Tuesday of the 2024 code table


@pytest.fixture(autouse=True)
def upload_dir(app: Flask, tmp_path: Path) -> Iterator[Path]:
    saved = app.config.get("IMPORT_UPLOAD_DIR")
    app.config["IMPORT_UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["IMPORT_UPLOAD_DIR"] = saved


def register_csv(world: World, code: str = "/", first_code: str | None = None) -> bytes:
    lines = ["UPN,Date,Session,Mark"]
    for i, pupil in enumerate(world.pupils["A"][:4]):
        for day in DAYS:
            for session in ("AM", "PM"):
                lines.append(f"{pupil.upn},{day},{session},{first_code if (first_code and i == 0) else code}")
    return ("\n".join(lines) + "\n").encode()


def post_upload(client: FlaskClient, urn: str, data: bytes | None, name: str = "autumn.csv", **fields: str) -> Any:
    form: dict[str, Any] = {"csrf_token": csrf_token(client, f"/schools/{urn}/imports"), "kind": "registers",
                            "format": "auto", "mapping": "", **fields}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return client.post(f"/schools/{urn}/imports", data=form, content_type="multipart/form-data")


def post_action(client: FlaskClient, urn: str, upload_id: int, action: str) -> Any:
    token = csrf_token(client, f"/schools/{urn}/imports/uploads/{upload_id}")
    return client.post(f"/schools/{urn}/imports/uploads/{upload_id}/{action}", data={"csrf_token": token})


def upload_id_from(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def fresh(upload_id: int) -> ImportUpload:
    db.session.expire_all()
    return db.session.get(ImportUpload, upload_id)


def marks() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Mark)) or 0


def test_upload_preview_confirm_import(app: Flask, world: World, upload_dir: Path) -> None:
    officer = signed_in_client(app, world.email("officer"))
    upload_id = upload_id_from(post_upload(officer, "100001", register_csv(world)))
    row = fresh(upload_id)
    assert (row.status, row.kind, row.file_name, row.created_by) == ("queued_preview", "registers", "autumn.csv",
                                                                      world.email("officer"))
    assert (upload_dir / str(upload_id) / "upload.csv").read_bytes() == register_csv(world)
    page = officer.get(f"/schools/100001/imports/uploads/{upload_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and "waiting to be checked" in page
    # Nothing ran in the request: no batch, no marks yet.
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0

    assert jobs.run_pending_imports() == 1  # the dry run
    row = fresh(upload_id)
    assert row.status == "preview" and row.preview["added"] == 16 and row.preview["dry_run"] is True
    assert marks() == 0 and db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    page = officer.get(f"/schools/100001/imports/uploads/{upload_id}").get_data(as_text=True)
    assert "What this import would change" in page and "Confirm and import" in page
    assert 'http-equiv="refresh"' not in page  # nothing to wait for

    assert post_action(officer, "100001", upload_id, "confirm").status_code == 302
    assert fresh(upload_id).status == "queued_import"
    assert 'http-equiv="refresh"' in officer.get(f"/schools/100001/imports/uploads/{upload_id}").get_data(as_text=True)
    assert jobs.run_pending_imports() == 1  # the import
    row = fresh(upload_id)
    assert row.status == "completed" and row.report["added"] == 16 and row.confirmed_by == world.email("officer")
    assert marks() == 16
    batch = db.session.get(ImportBatch, row.batch_id)
    assert (batch.status, batch.created_by, batch.file_name, batch.added) == ("completed", world.email("officer"),
                                                                               "autumn.csv", 16)
    assert not (upload_dir / str(upload_id)).exists()  # the file goes once imported; the report stays
    history = officer.get("/schools/100001/imports").get_data(as_text=True)
    assert f"Import {batch.id}" in history and "autumn.csv" in history
    detail = officer.get(f"/schools/100001/imports/{batch.id}")
    assert detail.status_code == 200 and "completed" in detail.get_data(as_text=True)
    assert jobs.run_pending_imports() == 0  # nothing left


def test_preview_lists_corrections_old_to_new(app: Flask, world: World) -> None:
    officer = signed_in_client(app, world.email("officer"))
    for step, data in enumerate((register_csv(world), register_csv(world, first_code="N"))):
        upload_id = upload_id_from(post_upload(officer, "100001", data, name=f"week{step}.csv"))
        jobs.run_pending_imports()
        if step == 0:
            post_action(officer, "100001", upload_id, "confirm")
            jobs.run_pending_imports()
    row = fresh(upload_id)
    assert (row.preview["added"], row.preview["changed"], row.preview["unchanged"]) == (0, 4, 12)
    assert {(c["old"], c["new"]) for c in row.preview["changes"]} == {("/", "N")}
    page = officer.get(f"/schools/100001/imports/uploads/{upload_id}").get_data(as_text=True)
    assert world.pupils["A"][0].upn in page and "Changes that would be made" in page
    post_action(officer, "100001", upload_id, "confirm")
    jobs.run_pending_imports()
    batch_id = fresh(upload_id).batch_id
    assert db.session.scalar(select(func.count()).select_from(MarkChange).where(MarkChange.batch_id == batch_id)) == 4
    detail = officer.get(f"/schools/100001/imports/{batch_id}").get_data(as_text=True)
    assert "Corrected marks" in detail and world.pupils["A"][0].upn in detail


def test_file_with_errors_shows_lines_and_fields_and_cannot_be_confirmed(app: Flask, world: World, upload_dir: Path) -> None:
    officer = signed_in_client(app, world.email("officer"))
    data = register_csv(world).replace(b",2026-11-03,PM,/\n", b",2026-11-03,PM,H\n", 1) + b"A999999999999,2026-11-02,AM,/\n"
    upload_id = upload_id_from(post_upload(officer, "100001", data))
    jobs.run_pending_imports()
    row = fresh(upload_id)
    assert row.status == "preview_failed" and row.preview["error_count"] == 2
    page = officer.get(f"/schools/100001/imports/uploads/{upload_id}").get_data(as_text=True)
    assert "The file has errors" in page and "line 5" in page and "<code>H</code>" in page and "A999999999999" in page
    assert "Confirm and import" not in page
    response = post_action(officer, "100001", upload_id, "confirm")
    assert response.status_code == 400 and "cannot be imported now" in response.get_data(as_text=True)
    assert marks() == 0 and db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    assert not (upload_dir / str(upload_id)).exists()
    assert post_action(officer, "100001", upload_id, "cancel").status_code == 302
    assert fresh(upload_id).status == "cancelled"
    assert post_action(officer, "100001", upload_id, "cancel").status_code == 400  # once only


def test_cancel_a_preview_deletes_the_file(app: Flask, world: World, upload_dir: Path) -> None:
    officer = signed_in_client(app, world.email("officer"))
    upload_id = upload_id_from(post_upload(officer, "100001", register_csv(world)))
    jobs.run_pending_imports()
    assert (upload_dir / str(upload_id) / "upload.csv").exists()
    assert post_action(officer, "100001", upload_id, "cancel").status_code == 302
    assert fresh(upload_id).status == "cancelled" and not (upload_dir / str(upload_id)).exists()
    assert post_action(officer, "100001", upload_id, "confirm").status_code == 400
    assert jobs.run_pending_imports() == 0 and marks() == 0


def test_confirming_twice_queues_one_import(app: Flask, world: World) -> None:
    officer = signed_in_client(app, world.email("officer"))
    upload_id = upload_id_from(post_upload(officer, "100001", register_csv(world)))
    jobs.run_pending_imports()
    assert post_action(officer, "100001", upload_id, "confirm").status_code == 302
    assert post_action(officer, "100001", upload_id, "confirm").status_code == 400
    assert jobs.run_pending_imports() == 1
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 1


def test_pupils_upload_through_the_page(app: Flask, world: World) -> None:
    from outreach.schools.upn import make_upn

    officer = signed_in_client(app, world.email("officer"))
    upn = make_upn(823, 2001, 24, 777)
    data = f"UPN,Forename,Surname,Year\n{upn},Ada,Lovelace,4\n".encode()
    upload_id = upload_id_from(post_upload(officer, "100001", data, name="roll.csv", kind="pupils"))
    jobs.run_pending_imports()
    assert fresh(upload_id).preview["added"] == 1
    post_action(officer, "100001", upload_id, "confirm")
    jobs.run_pending_imports()
    row = fresh(upload_id)
    assert row.status == "completed" and db.session.get(ImportBatch, row.batch_id).kind == "pupils"


@pytest.mark.parametrize(("fields", "data", "name", "message"), [
    ({}, None, "", "Choose a file to upload."),
    ({}, b"", "empty.csv", "The file is empty: 'empty.csv' has no content."),
    ({}, b"PK\x03\x04", "book.xlsx", "is not .csv, .txt or .xml"),
    ({"kind": "pupils", "format": "wide"}, b"UPN\n", "a.csv", "pupils and contacts files are always CSV"),
    ({"kind": "contacts"}, b"<CTfile/>", "a.xml", "pupils and contacts files are CSV"),
    ({"kind": "marks"}, b"x\n", "a.csv", "Not a valid choice"),
    ({"mapping": "capita"}, b"x\n", "a.csv", "Not a valid choice"),
])
def test_bad_uploads_are_refused_and_nothing_is_kept(app: Flask, world: World, upload_dir: Path, fields: dict[str, str],
                                                     data: bytes | None, name: str, message: str) -> None:
    officer = signed_in_client(app, world.email("officer"))
    response = post_upload(officer, "100001", data, name=name, **fields)
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(ImportUpload)) == 0
    assert not upload_dir.exists() or not any(upload_dir.iterdir())


def test_upload_over_the_size_limit_gets_the_413_page(app: Flask, world: World) -> None:
    officer = signed_in_client(app, world.email("officer"))
    token = csrf_token(officer, "/schools/100001/imports")
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    try:
        response = officer.post("/schools/100001/imports", content_type="multipart/form-data",
                                data={"csrf_token": token, "kind": "registers", "format": "auto",
                                      "file": (io.BytesIO(b"x" * 20_000), "big.csv")})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = saved
    assert response.status_code == 413 and "That file is too large" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ImportUpload)) == 0


def test_read_roles_see_history_but_cannot_upload_or_confirm(app: Flask, world: World) -> None:
    officer = signed_in_client(app, world.email("officer"))
    upload_id = upload_id_from(post_upload(officer, "100001", register_csv(world)))
    jobs.run_pending_imports()
    for role in ("head", "trust_lead"):
        client = signed_in_client(app, world.email(role))
        page = client.get("/schools/100001/imports").get_data(as_text=True)
        assert "Import history" in page and "Upload a file" not in page
        assert "autumn.csv" in page  # the upload waiting for a decision
        detail = client.get(f"/schools/100001/imports/uploads/{upload_id}").get_data(as_text=True)
        assert "What this import would change" in detail and "Confirm and import" not in detail
        assert post_upload(client, "100001", register_csv(world)).status_code == 403
        token = csrf_token(client, "/account")
        assert client.post(f"/schools/100001/imports/uploads/{upload_id}/confirm",
                           data={"csrf_token": token}).status_code == 403
    assert fresh(upload_id).status == "preview"
    # Another school's upload, through this school's URL, does not exist.
    assert officer.get(f"/schools/100002/imports/uploads/{upload_id}").status_code == 404


def test_index_goes_straight_to_a_one_school_users_imports(app: Flask, world: World) -> None:
    head = signed_in_client(app, world.email("head"))
    response = head.get("/imports")
    assert response.status_code == 302 and response.headers["Location"].endswith("/schools/100001/imports")
    page = signed_in_client(app, world.email("officer")).get("/imports").get_data(as_text=True)
    assert "Ash Primary" in page and "Birch Academy" in page and "Cedar School" not in page


def test_worker_records_a_step_it_cannot_run(app: Flask, world: World, upload_dir: Path) -> None:
    officer = signed_in_client(app, world.email("officer"))
    upload_id = upload_id_from(post_upload(officer, "100001", register_csv(world)))
    (upload_dir / str(upload_id) / "upload.csv").unlink()  # e.g. the disk was cleaned under it
    assert jobs.run_pending_imports() == 1
    row = fresh(upload_id)
    assert row.status == "failed" and "no such file" in row.problem
    assert "The import could not run" in officer.get(f"/schools/100001/imports/uploads/{upload_id}").get_data(as_text=True)


def test_abandoned_steps_are_queued_again_then_failed(app: Flask, world: World) -> None:
    officer = signed_in_client(app, world.email("officer"))
    upload_id = upload_id_from(post_upload(officer, "100001", register_csv(world)))
    row = fresh(upload_id)
    row.status, row.started_at, row.attempts = "previewing", utcnow() - timedelta(hours=1), 1
    db.session.commit()
    assert jobs.run_pending_imports() == 1 and fresh(upload_id).status == "preview"
    row = fresh(upload_id)
    row.status, row.started_at, row.attempts = "importing", utcnow() - timedelta(hours=1), jobs.MAX_ATTEMPTS
    db.session.commit()
    assert jobs.run_pending_imports() == 0
    assert fresh(upload_id).status == "failed" and marks() == 0
    # A step that is merely slow (started recently) is left alone.
    row = fresh(upload_id)
    row.status, row.started_at = "importing", utcnow()
    db.session.commit()
    assert jobs.requeue_stale() == 0 and fresh(upload_id).status == "importing"


def test_undecided_previews_are_dropped_after_a_week(app: Flask, world: World, upload_dir: Path) -> None:
    officer = signed_in_client(app, world.email("officer"))
    old_id = upload_id_from(post_upload(officer, "100001", register_csv(world), name="old.csv"))
    new_id = upload_id_from(post_upload(officer, "100001", register_csv(world), name="new.csv"))
    jobs.run_pending_imports()
    row = fresh(old_id)
    row.created_at = utcnow() - timedelta(days=8)
    db.session.commit()
    assert jobs.expire_old_previews() == 1
    assert fresh(old_id).status == "cancelled" and not (upload_dir / str(old_id)).exists()
    assert fresh(new_id).status == "preview" and (upload_dir / str(new_id) / "upload.csv").exists()


def test_progress_file_is_atomic_and_read_with_a_percentage(app: Flask, world: World, tmp_path: Path) -> None:
    upload = ImportUpload(id=5, school_id=world.schools["A"].id, kind="registers", file_name="x.csv",
                          stored_name="5/upload.csv", created_by="t")
    assert uploads.read_progress(upload) is None
    writer = uploads.ProgressWriter(uploads.upload_folder(upload), "import", interval=3600)
    writer(10, 200)
    writer(20, 200)  # within the interval: not written
    assert uploads.read_progress(upload)["done"] == 10
    writer(200, 200)  # the end is always written
    progress = uploads.read_progress(upload)
    assert (progress["phase"], progress["done"], progress["total"], progress["percent"]) == ("import", 200, 200, 100)
    assert [p.name for p in uploads.upload_folder(upload).iterdir()] == ["progress.json"]  # no temporary left


def test_progress_is_readable_while_the_import_transaction_is_open(app: Flask, world: World, monkeypatch: Any) -> None:
    """While the worker's import transaction is open (mid-file, the batch row already written),
    another connection reads the upload page and the API: both answer, and show the rows done.
    The observation runs inside the progress callback itself, so it is certain to happen
    mid-transaction; it reads through new app contexts, i.e. other database connections."""
    from outreach.core.accounts import services
    from outreach.schools.upn import make_upn
    from tests.factories import make_pupil

    monkeypatch.setattr(uploads, "PROGRESS_INTERVAL", 0.0)
    school = world.schools["A"]
    pupils = [make_pupil(school, upn=make_upn(823, 2002, 24, n), year_group="3") for n in range(20)]
    db.session.commit()
    lines, day, days = ["UPN,Date,Session,Mark"], date(2026, 9, 7), 0
    while days < 30:
        if day.weekday() < 5:
            lines += [f"{p.upn},{day.isoformat()},{s},/" for p in pupils for s in ("AM", "PM")]
            days += 1
        day += timedelta(days=1)
    officer = signed_in_client(app, world.email("officer"))
    token = services.create_token(world.users["officer"], "poll")[1]
    upload_id = upload_id_from(post_upload(officer, "100001", ("\n".join(lines) + "\n").encode(), name="term.csv"))
    jobs.run_pending_imports()
    post_action(officer, "100001", upload_id, "confirm")
    # Use the token once now: its last-used time is then not written again within the minute, so
    # the reads below are pure reads (on SQLite a write would wait for the import to commit).
    app.test_client().get(f"/api/v1/import-uploads/{upload_id}", headers={"Authorization": f"Bearer {token}"})

    seen: list[tuple[int, int, int, str, Any]] = []
    original = uploads.ProgressWriter.__call__

    def read_elsewhere(done: int, total: int) -> None:
        # A thread of its own: no app context to share, so its own session and connection.
        page = officer.get(f"/schools/100001/imports/uploads/{upload_id}")
        api = app.test_client().get(f"/api/v1/import-uploads/{upload_id}", headers={"Authorization": f"Bearer {token}"})
        seen.append((done, total, page.status_code, page.get_data(as_text=True), api.get_json()))

    def observed(self: uploads.ProgressWriter, done: int, total: int | None) -> None:
        original(self, done, total)
        if total and 0 < done < total and len(seen) < 3:
            reader = threading.Thread(target=read_elsewhere, args=(done, total))
            reader.start()
            reader.join(timeout=20)
            assert not reader.is_alive(), "a read waited for the import's transaction"

    monkeypatch.setattr(uploads.ProgressWriter, "__call__", observed)
    assert jobs.run_pending_imports() == 1
    assert seen, "the import reported no progress mid-file"
    for done, total, status, page, api in seen:
        assert status == 200 and api["status"] == "importing"
        assert (api["progress"]["done"], api["progress"]["total"]) == (done, total)
        assert f"{done:,} of {total:,} rows" in page and 'http-equiv="refresh"' in page
    row = fresh(upload_id)
    assert row.status == "completed" and row.report["added"] == 1200


def test_imports_work_command_drains_the_queue(app: Flask, world: World, runner: Any) -> None:
    officer = signed_in_client(app, world.email("officer"))
    upload_id = upload_id_from(post_upload(officer, "100001", register_csv(world)))
    result = runner.invoke(args=["imports", "work"])
    assert result.exit_code == 0 and "1 import step run" in result.output
    assert fresh(upload_id).status == "preview"
    assert "0 import steps run" in runner.invoke(args=["imports", "work"]).output


def test_inline_worker_thread_runs_the_upload(app: Flask, world: World) -> None:
    officer = signed_in_client(app, world.email("officer"))
    app.config["OUTREACH_INLINE_IMPORT_WORKER"] = True
    try:
        upload_id = upload_id_from(post_upload(officer, "100001", register_csv(world)))
        deadline = time.monotonic() + 60
        while fresh(upload_id).status != "preview" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fresh(upload_id).status == "preview"
        post_action(officer, "100001", upload_id, "confirm")
        while fresh(upload_id).status != "completed" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fresh(upload_id).status == "completed" and marks() == 16
    finally:
        app.config.pop("OUTREACH_INLINE_IMPORT_WORKER")
        deadline = time.monotonic() + 30
        while jobs._inline_lock.locked() and time.monotonic() < deadline:
            time.sleep(0.05)


def test_api_lists_imports_and_shows_one_with_its_errors(app: Flask, world: World) -> None:
    from outreach.core.accounts import services

    officer = signed_in_client(app, world.email("officer"))
    upload_id = upload_id_from(post_upload(officer, "100001", register_csv(world)))
    jobs.run_pending_imports()
    post_action(officer, "100001", upload_id, "confirm")
    jobs.run_pending_imports()
    bad = upload_id_from(post_upload(officer, "100001", b"UPN,Date,Session,Mark\nA999999999999,2026-11-02,AM,/\n"))
    jobs.run_pending_imports()
    assert fresh(bad).status == "preview_failed"

    token = services.create_token(world.users["head"], "api")[1]
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    listing = api.get("/api/v1/schools/100001/imports", headers=headers).get_json()
    assert listing["meta"]["total"] == 1
    item = listing["data"][0]
    assert (item["school_urn"], item["kind"], item["status"], item["added"]) == ("100001", "registers", "completed", 16)
    assert api.get("/api/v1/schools/100001/imports?status=failed", headers=headers).get_json()["meta"]["total"] == 0
    detail = api.get(f"/api/v1/imports/{item['id']}", headers=headers).get_json()
    assert detail["errors"] == [] and detail["file_name"] == "autumn.csv"
    preview = api.get(f"/api/v1/import-uploads/{bad}", headers=headers).get_json()
    assert preview["status"] == "preview_failed" and preview["preview"]["errors"][0]["line"] == 2
    assert api.get("/api/v1/schools/100002/imports", headers=headers).status_code == 404  # not the head's school
    assert api.get("/api/v1/schools/100001/imports?status=nope", headers=headers).status_code == 400
    assert "/api/v1/schools/{urn}/imports" in api.get("/api/v1/openapi.json").get_json()["paths"]
