"""The registry in Russian and English (issue #12): API refusals with the same code in both
languages, the analyst's page and its plot captions in Russian, CLI refusals under
CARTFLOW_LANG=ru for `cartflow registry` and `cartflow simulate`."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cartflow.cli.main import app as cli
from cartflow.i18n import DEFAULT_LOCALE, use_locale
from cartflow.models import EpisodeState, Role
from tests.factories import auth, make_episode, make_network, make_user
from tests.web.helpers import login


def _refusal(
    api: TestClient, headers: dict[str, str], url: str, params: dict[str, str]
) -> tuple[tuple[int, str, str], ...]:
    out = []
    for lang in ("en", "ru"):
        response = api.get(url, params=params, headers={**headers, "Accept-Language": lang})
        body = response.json()
        out.append((response.status_code, body["code"], body["message"]))
    return tuple(out)


def test_registry_api_refusals_in_english_and_russian_share_the_code(
    api: TestClient, session: Session
) -> None:
    headers = auth(session, make_user(session, Role.REGISTRY_ANALYST))
    english, russian = _refusal(
        api, headers, "/api/v1/registry/survival.png", {"product": "NO-SUCH-PRODUCT"}
    )
    assert english == (
        409,
        "REGISTRY-EMPTY-COHORT",
        "no patient in this cohort has this end point: nothing to plot",
    )
    assert russian == (
        409,
        "REGISTRY-EMPTY-COHORT",
        "ни у одного пациента когорты нет этой конечной точки: строить нечего",
    )
    english, russian = _refusal(api, headers, "/api/v1/registry/cohort", {"center": "NOWHERE"})
    assert english == (404, "REGISTRY-CENTER-NOT-FOUND", "no center 'NOWHERE'")
    assert russian == (404, "REGISTRY-CENTER-NOT-FOUND", "центр 'NOWHERE' не найден")


def test_the_registry_page_and_its_plot_in_russian(
    client: TestClient, session: Session, unique: str
) -> None:
    net = make_network(session, unique)
    make_episode(session, net, state=EpisodeState.INFUSED)
    login(client, make_user(session, Role.REGISTRY_ANALYST).username)
    client.cookies.set("cartflow_locale", "ru")
    page = client.get(f"/registry?product={net.product.code}")
    assert page.status_code == 200
    for text in (
        "Регистр: время до инфузии",
        "Фильтры когорты",
        "1 эпизод в когорте.",
        "Выгрузить когорту (CSV, псевдонимизировано)",
        "Ещё ожидают инфузии (Каплан–Мейер, выбывание цензурировано)",
    ):
        assert text in page.text
    assert "Cohort filters" not in page.text
    plot = client.get(f"/registry/plot.svg?product={net.product.code}&kind=cif")
    assert plot.status_code == 200
    # Captions are SVG text (svg.fonttype "none"): the title, axis and at-risk table in Russian.
    for text in ("Кумулятивная частота — От направления до инфузии", "Дни", "под риском"):
        assert text in plot.text
    refused = client.get("/registry?referred_from=вчера")
    assert refused.status_code == 422 and "не дата (ГГГГ-ММ-ДД)" in refused.text


def _cli(*args: str, lang: str) -> tuple[int, str]:
    # The command sets the process's language from CARTFLOW_LANG; `use_locale` gives the test's
    # own language back afterwards, as a new process would start afresh.
    with use_locale(DEFAULT_LOCALE):
        result = CliRunner().invoke(cli, list(args), env={"CARTFLOW_LANG": lang})
    return result.exit_code, result.stderr


def test_cli_refusals_in_russian(tmp_path: Path) -> None:
    data = tmp_path / "times.csv"
    data.write_text("t,e\n5,1\n-3,0\n")
    assert _cli("registry", "km", str(data), "--time", "t", "--event", "e", lang="ru") == (
        2,
        "столбец 't', строка 2 (строка файла 3): отрицательное значение: '-3'\n",
    )
    assert _cli("registry", "km", str(data), "--time", "t", "--event", "e", lang="en") == (
        2,
        "column 't', row 2 (file line 3) is negative: '-3'\n",
    )
    assert _cli("simulate", "demo_network", "--years", "0", lang="ru") == (
        2,
        "--years должно быть положительным\n",
    )
