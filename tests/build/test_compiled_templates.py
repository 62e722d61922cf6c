"""The templates the build compiles (``buildtools/templates.py``, ``app.render``): the app
wheel ships every template as the module jinja2 compiles it to, so a cold start imports the
first screen's templates instead of parsing and compiling them. Rendered from those modules,
every page is the same as from the template files."""

from __future__ import annotations

import pytest
from jinja2 import Environment

from app import core, render
from medex.records import PracticeProfile
from medex.repository import InMemoryRepository
from tests.support.aio import run
from tests.support.fakes import FakePlatform


@pytest.fixture
def compiled(tmp_path, monkeypatch):
    for name, code in render.compiled_templates().items():
        (tmp_path / name).write_text(code)
    env = render.environment(tmp_path)

    def not_compiled(*args, **kwargs):
        raise AssertionError("a template was compiled at run time, not loaded from its module")

    monkeypatch.setattr(env, "compile", not_compiled)
    yield env
    render.environment.cache_clear()


def test_every_template_loads_from_its_compiled_module(compiled):
    files = render.environment(None)
    assert compiled is not files and not isinstance(files.loader, render._CompiledFirst)
    names = files.list_templates(extensions=["html"])
    assert len(names) > 50 and compiled.list_templates(extensions=["html"]) == names
    for name in names:
        assert compiled.get_template(name).name == name
    # Sources stay readable (tracebacks, tests) through the files.
    source = compiled.loader.get_source(compiled, "views/home.html")[0]
    assert source.startswith('{% extends "views/base.html" %}')


def test_a_template_without_a_module_is_read_from_its_file(tmp_path):
    (tmp_path / "unrelated.py").write_text("x = 1\n")
    env = render.environment(tmp_path)
    try:
        assert "app-header" in env.get_template("views/base.html").render(
            app_version="1", state=core.State(), navigation=[], current=""
        )
    finally:
        render.environment.cache_clear()


def _pages(monkeypatch, env: Environment) -> list[str]:
    """The first-run page, the home page and the locked screen, rendered by ``env``."""
    monkeypatch.setattr(
        core, "render", lambda template, **context: env.get_template(template).render(**context)
    )
    core.load_screens()
    repo = InMemoryRepository()
    app = core.App(repo, FakePlatform())
    run(app.load())
    app.navigate("")
    pages = [run(app.html())]
    profile = PracticeProfile(practitioner_name="Jo Smith", business_name="Smith MEP")
    repo.stores = {PracticeProfile.store: {profile.id: profile.model_dump_json()}}
    app.state.warm = False
    pages.append(run(app.html()))
    app.state.warm = True
    pages.append(run(app.html()))
    app.forget_everything()
    pages.append(run(app.html()))
    return pages


def test_the_compiled_templates_render_what_the_files_render(compiled, monkeypatch):
    from_files = _pages(monkeypatch, render.environment(None))
    assert "Smith MEP" in from_files[1] and "Smith MEP" in from_files[2]
    assert _pages(monkeypatch, compiled) == from_files
