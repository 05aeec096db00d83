import pytest

from config import ConfigError, load_settings


def test_defaults_run_embedded():
    settings = load_settings(environ={})
    assert settings["ENV"] == "development"
    assert settings["DATABASE_URL"] is None
    assert settings["REDIS_EMBEDDED"] is True
    assert settings["TIMEZONE"] == "Asia/Shanghai"
    assert settings["REPLY_SLA_SECONDS"] == 3600


def test_environment_variables_override_defaults():
    settings = load_settings(environ={"LINLI_REPLY_SLA_SECONDS": "120", "LINLI_REPLY_WARN_SECONDS": "30",
                                      "LINLI_REDIS_URL": "redis://127.0.0.1:6379/3",
                                      "LINLI_TIMEZONE": "Asia/Urumqi"})
    assert settings["REPLY_SLA_SECONDS"] == 120
    assert settings["REDIS_EMBEDDED"] is False
    assert settings["TIMEZONE"] == "Asia/Urumqi"


@pytest.mark.parametrize("env, named", [
    ({"LINLI_REPLY_SLA_SECONDS": "an hour"}, "LINLI_REPLY_SLA_SECONDS"),
    ({"LINLI_REPLY_SLA_SECONDS": "-5"}, "LINLI_REPLY_SLA_SECONDS"),
    ({"LINLI_TIMEZONE": "Mars/Olympus"}, "LINLI_TIMEZONE"),
    ({"LINLI_ENV": "staging"}, "LINLI_ENV"),
    ({"LINLI_REPLY_WARN_SECONDS": "4000"}, "LINLI_REPLY_WARN_SECONDS"),
])
def test_bad_settings_name_the_variable(env, named):
    with pytest.raises(ConfigError) as info:
        load_settings(environ=env)
    assert named in str(info.value)
    assert "\n" not in str(info.value)


def test_production_refuses_to_start_without_secret_key():
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"LINLI_ENV": "production"})
    assert "LINLI_SECRET_KEY" in str(info.value)


def test_production_refuses_a_weak_secret_key():
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"LINLI_ENV": "production", "LINLI_SECRET_KEY": "short"})
    assert "LINLI_SECRET_KEY" in str(info.value)


def test_production_starts_with_a_real_secret():
    settings = load_settings(environ={"LINLI_ENV": "production", "LINLI_SECRET_KEY": "x" * 40})
    assert settings["ENV"] == "production"


def test_secret_values_are_not_echoed_in_errors():
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"LINLI_ENV": "production", "LINLI_SECRET_KEY": "tooshort-secret"})
    assert "tooshort-secret" not in str(info.value)


def test_only_config_reads_the_environment():
    """Nothing outside config/ reads os.environ (the settings contract)."""
    import pathlib
    root = pathlib.Path(__file__).resolve().parent.parent
    offenders = []
    for folder in ("app", "workers"):
        for path in (root / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            if "os.environ" in source or "os.getenv" in source:
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
