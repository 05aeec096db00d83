import subprocess
import sys

from app import database_uri


def test_create_app_uses_test_settings(app):
    assert app.config["TESTING"] is True
    assert app.config["ENV"] == "test"


def test_postgres_urls_get_the_psycopg_driver(tmp_path):
    assert database_uri({"DATABASE_URL": "postgresql://u@h/db"}, tmp_path) == "postgresql+psycopg://u@h/db"
    assert database_uri({"DATABASE_URL": None}, tmp_path).startswith("sqlite:///")


def test_importing_the_package_does_no_work(tmp_path):
    """Importing app and wsgi-free modules must not create files or connect anywhere."""
    code = ("import app, app.models, app.extensions, workers, config; "
            "from app.extensions import db; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_config_is_one_line_not_a_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=str(__import__('pathlib').Path(__file__)
                            .resolve().parent.parent), capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "LINLI_ENV": "production",
                                 "LINLI_INSTANCE_PATH": str(tmp_path)})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "LINLI_SECRET_KEY" in result.stderr


def test_unknown_api_path_answers_json(client):
    response = client.get("/api/v1/no/such/path")  # a page address: the Chinese page (tests/web)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert response.get_json()["error"]["message"] == "没有这个地址 (not found)"   # for people first


def test_body_over_the_limit_is_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = client.post("/healthz", data=b"x" * 1000)
    assert response.status_code in (405, 413)
