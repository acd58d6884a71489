"""Each search provider against its loopback fake (ddgs: an injected fake client)."""

from __future__ import annotations

import pytest
from ddgs.exceptions import DDGSException, RatelimitException

from bot.testing.fakes.search import FAKE_BRAVE_KEY, FAKE_TAVILY_KEY, FakeDDGS, FakeHit, FakeSearch
from tools.search.providers import (
    BraveProvider,
    DdgsProvider,
    SearchHit,
    SearchProvider,
    SearchProviderError,
    SearxngProvider,
    TavilyProvider,
    build_provider,
)
from tools.search.settings import SearchSettings


def searxng(fake: FakeSearch, timeout_s: float = 5) -> SearxngProvider:
    return SearxngProvider(fake.base_url, session=None, timeout_s=timeout_s)


def brave(fake: FakeSearch, key: str = FAKE_BRAVE_KEY, timeout_s: float = 5) -> BraveProvider:
    return BraveProvider(key, session=None, timeout_s=timeout_s, base_url=fake.base_url)


def tavily(fake: FakeSearch, key: str = FAKE_TAVILY_KEY) -> TavilyProvider:
    return TavilyProvider(key, session=None, timeout_s=5, base_url=fake.base_url)


async def test_searxng_returns_hits_from_its_json_api(fake_search: FakeSearch) -> None:
    hits = await searxng(fake_search).search("python", 2, freshness="week")

    assert hits == [
        SearchHit("Python (language)", "https://en.wikipedia.org/wiki/Python", "A language."),
        SearchHit(
            "Welcome to Python.org", "https://www.python.org/", "The official home of Python."
        ),
    ]
    (request,) = fake_search.requests_to("searxng")
    assert request.query["q"] == "python"
    assert request.query["format"] == "json"
    assert request.query["time_range"] == "week"
    assert request.query["safesearch"] == "1"


async def test_searxng_without_json_format_says_how_to_enable_it(fake_search: FakeSearch) -> None:
    fake_search.searxng_json = False

    with pytest.raises(SearchProviderError, match=r"HTTP 403.*search\.formats"):
        await searxng(fake_search).search("python", 3)


async def test_brave_sends_the_key_and_maps_freshness(fake_search: FakeSearch) -> None:
    hits = await brave(fake_search).search("python", 3, freshness="day")

    assert [hit.url for hit in hits] == [
        "https://en.wikipedia.org/wiki/Python",
        "https://www.python.org/",
        "https://docs.python.org/3/tutorial/",
    ]
    (request,) = fake_search.requests_to("brave")
    assert request.headers["X-Subscription-Token"] == FAKE_BRAVE_KEY
    assert request.query["count"] == "3"
    assert request.query["freshness"] == "pd"


async def test_brave_with_a_wrong_key_names_the_environment_variable(
    fake_search: FakeSearch,
) -> None:
    provider = brave(fake_search, key="wrong-key")

    with pytest.raises(SearchProviderError) as caught:
        await provider.search("python", 3)

    assert "TOOLCORD_TOOLS__CONFIG__SEARCH__BRAVE_API_KEY" in caught.value.message
    assert "wrong-key" not in caught.value.message
    assert "wrong-key" not in repr(provider)


async def test_brave_without_web_section_means_no_results(fake_search: FakeSearch) -> None:
    fake_search.hits = []

    assert await brave(fake_search).search("nothing", 3) == []


async def test_tavily_posts_the_query_with_a_bearer_key(fake_search: FakeSearch) -> None:
    hits = await tavily(fake_search).search("python", 1, freshness="month")

    assert [hit.title for hit in hits] == ["Python (language)"]
    (request,) = fake_search.requests_to("tavily")
    assert request.headers["Authorization"] == f"Bearer {FAKE_TAVILY_KEY}"
    assert request.body["query"] == "python"
    assert request.body["max_results"] == 1
    assert request.body["time_range"] == "month"


async def test_tavily_with_a_wrong_key_is_a_clear_error(fake_search: FakeSearch) -> None:
    with pytest.raises(SearchProviderError, match="TAVILY_API_KEY"):
        await tavily(fake_search, key="tvly-wrong").search("python", 3)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(500, "having problems"), (503, "having problems"), (429, "limiting"), (404, "HTTP 404")],
)
async def test_http_errors_become_model_safe_messages(
    status: int, expected: str, fake_search: FakeSearch
) -> None:
    fake_search.set_behavior("error", status=status)

    for provider in (searxng(fake_search), brave(fake_search), tavily(fake_search)):
        with pytest.raises(SearchProviderError, match=expected):
            await provider.search("python", 3)


async def test_slow_provider_times_out(fake_search: FakeSearch) -> None:
    fake_search.set_behavior("slow", delay_s=30)

    with pytest.raises(SearchProviderError, match=r"did not answer within 0\.3 s"):
        await searxng(fake_search, timeout_s=0.3).search("python", 3)


async def test_non_json_answer_is_an_error(fake_search: FakeSearch) -> None:
    fake_search.set_behavior("not-json")

    with pytest.raises(SearchProviderError, match="not valid JSON"):
        await brave(fake_search).search("python", 3)


@pytest.mark.parametrize("make", [searxng, brave, tavily], ids=["searxng", "brave", "tavily"])
async def test_wrong_response_shape_is_an_error(make: object, fake_search: FakeSearch) -> None:
    fake_search.set_behavior("wrong-shape")
    provider = make(fake_search)  # type: ignore[operator]

    with pytest.raises(SearchProviderError):
        await provider.search("python", 3)


async def test_unreachable_provider_is_an_error() -> None:
    provider = SearxngProvider("http://127.0.0.1:9", session=None, timeout_s=5)

    with pytest.raises(SearchProviderError, match="could not be reached"):
        await provider.search("python", 3)


async def test_rows_without_a_url_are_skipped(fake_search: FakeSearch) -> None:
    fake_search.hits = [FakeHit("ok", "https://a.example/", "s")]
    fake_search.hits.append(FakeHit("no url", None, "s"))  # type: ignore[arg-type]

    hits = await searxng(fake_search).search("x", 5)

    assert [hit.title for hit in hits] == ["ok"]


# ------------------------------------------------------------------ ddgs adapter


async def test_ddgs_adapter_passes_options_and_maps_rows() -> None:
    fake = FakeDDGS()
    provider = DdgsProvider(timeout_s=5, region="us-en", client_factory=lambda: fake)

    hits = await provider.search("python", 2, freshness="week")

    assert [hit.url for hit in hits] == [
        "https://en.wikipedia.org/wiki/Python",
        "https://www.python.org/",
    ]
    ((query, options),) = fake.calls
    assert query == "python"
    assert options == {
        "region": "us-en",
        "safesearch": "moderate",
        "backend": "duckduckgo",
        "max_results": 2,
        "timelimit": "w",
    }


async def test_ddgs_no_results_is_an_empty_list() -> None:
    fake = FakeDDGS(error=DDGSException("No results found."))
    provider = DdgsProvider(timeout_s=5, client_factory=lambda: fake)

    assert await provider.search("zzzz", 3) == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RatelimitException("202 Ratelimit"), "limiting"),
        (DDGSException("boom"), "search failed"),
        (RuntimeError("primp exploded"), "search failed"),
    ],
)
async def test_ddgs_errors_become_model_safe_messages(error: Exception, expected: str) -> None:
    provider = DdgsProvider(timeout_s=5, client_factory=lambda: FakeDDGS(error=error))

    with pytest.raises(SearchProviderError, match=expected) as caught:
        await provider.search("python", 3)

    assert "primp" not in caught.value.message


async def test_ddgs_hang_is_cut_by_the_timeout() -> None:
    fake = FakeDDGS(hang=True)
    provider = DdgsProvider(timeout_s=0.2, client_factory=lambda: fake)
    try:
        with pytest.raises(SearchProviderError, match="did not answer"):
            await provider.search("python", 3)
    finally:
        fake.release()


def test_build_provider_picks_the_configured_provider() -> None:
    def build(**config: object) -> SearchProvider:
        return build_provider(SearchSettings.model_validate(config), None)

    assert isinstance(build(), DdgsProvider)
    assert isinstance(build(provider="searxng", searxng_url="http://searxng:8080"), SearxngProvider)
    assert isinstance(build(provider="brave", brave_api_key="k"), BraveProvider)
    assert isinstance(build(provider="tavily", tavily_api_key="k"), TavilyProvider)
    with pytest.raises(SearchProviderError, match="SEARCH__BRAVE_API_KEY"):
        build(provider="brave")
    with pytest.raises(SearchProviderError, match="searxng_url"):
        build(provider="searxng")
