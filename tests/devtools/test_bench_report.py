"""The bench report's near-cache rows (``python -m devtools.bench --near-cache``)."""

from types import SimpleNamespace

from devtools.bench.report import _near_cache_checks


def _result(requests_per_second: float, worker_cpu_us: float) -> SimpleNamespace:
    return SimpleNamespace(
        wrk=SimpleNamespace(requests_per_second=requests_per_second),
        cpu_us={"gunicorn workers": worker_cpu_us},
    )


def test_the_report_compares_each_near_cache_case_with_its_plain_twin_from_the_same_run():
    by_key = {
        "b": _result(1000, 400),
        "b-near": _result(1150, 408),
        "d": _result(100, 5000),
        "d-near": _result(95, 5250),
    }

    rows = _near_cache_checks(by_key)

    assert rows == [
        "| b-near/b (near cache on vs off): req/s; worker CPU per request | 1.15; 1.02 | ≥ 1.10 req/s to keep it | - |",
        "| d-near/d (near cache on vs off): req/s; worker CPU per request | 0.95; 1.05 | ≥ 1.10 req/s to keep it | - |",
    ]


def test_without_the_near_cache_cases_the_report_has_no_near_cache_rows():
    assert _near_cache_checks({"b": _result(1000, 400), "d": _result(100, 5000)}) == []
