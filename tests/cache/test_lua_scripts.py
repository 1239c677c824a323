"""Our Lua scripts live in restaurants/cache/plumbing/lua/ and are run by name
(restaurants/cache/plumbing/scripts.py)."""

import importlib
import json
import pkgutil
import re
from pathlib import Path

import pytest
from django_redis import get_redis_connection

import restaurants
import restaurants.cache
from restaurants.cache.data.leaderboard import bayesian_score
from restaurants.cache.plumbing import scripts
from restaurants.cache.plumbing.connection import store_unless_written
from restaurants.cache.rules import release
from restaurants.dynamo.entities import StarCounts

RESTAURANTS_DIR = Path(restaurants.__file__).parent
# Signs of Lua, or of a script sent around the loader, in Python source.
INLINE_LUA = re.compile(
    r"redis\.call\(|\.eval\(|\.evalsha\(|register_script|LuaScript\(\s*[rbf]*[\"']{1,3}\s*\n|"
    r"[\"']EVAL(SHA)?[\"']\s*,\s*[rbf]*[\"']"
)


def _cache_modules():
    for module in pkgutil.walk_packages(restaurants.cache.__path__, prefix="restaurants.cache."):
        yield importlib.import_module(module.name)


def _script_files() -> set[str]:
    return {path.stem for path in scripts.LUA_DIR.glob("*.lua")}


def _names_in_use() -> set[str]:
    """Scripts some module runs (a ``LuaScript``, or the source itself for a raw
    EVAL), and the files those include."""
    used = set()
    for module in _cache_modules():
        for value in vars(module).values():
            if isinstance(value, scripts.LuaScript):
                used.add(value.name)
            elif isinstance(value, str) and value.strip():
                used |= {name for name in _script_files() if value == scripts.source(name)}
    for name in list(used):
        used |= set(re.findall(r"^-- include: (\S+)$", (scripts.LUA_DIR / f"{name}.lua").read_text(), re.M))
    return used


def test_every_script_file_is_run_by_some_module():
    assert _script_files() - _names_in_use() == set()


def test_every_script_file_starts_with_a_comment_saying_what_it_takes_and_returns():
    for path in scripts.LUA_DIR.glob("*.lua"):
        first = path.read_text().splitlines()[0]
        assert first.startswith("-- "), path.name
        assert ("KEYS" in first and "returns" in first.lower()) or path.stem.startswith("_"), path.name


def test_every_script_is_lua_that_redis_accepts():
    client = get_redis_connection("default")
    for name in _names_in_use() - {name for name in _script_files() if name.startswith("_")}:
        assert client.script_load(scripts.source(name)) == scripts.LuaScript(name).sha, name


def test_no_lua_is_left_inline_in_python():
    found = []
    for path in RESTAURANTS_DIR.rglob("*.py"):
        if path == Path(scripts.__file__):
            continue  # the loader: EVALSHA, and EVAL when a server lacks the script
        found += [f"{path.relative_to(RESTAURANTS_DIR)}: {m.group(0)!r}" for m in INLINE_LUA.finditer(path.read_text())]
    assert found == []


def test_an_include_is_pasted_in_place():
    source = scripts.source("bump_generation_and_delete")
    assert "-- include:" not in source
    assert "local function bump_generation(key, seconds)" in source


def test_a_server_that_lost_its_scripts_is_sent_the_source_again():
    client = get_redis_connection("default")
    assert store_unless_written(client, "k", "gen", "one", seconds=60, generation="")
    client.script_flush()
    assert store_unless_written(client, "k", "gen", "two", seconds=60, generation="")
    assert client.get("k") == b"two"
    assert client.script_exists(scripts.LuaScript("store_unless_written").sha) == [True]


@pytest.mark.parametrize(
    "stars",
    [StarCounts(), StarCounts(five=1), StarCounts(one=3), StarCounts(5, 4, 3, 2, 1), StarCounts(0, 0, 7, 0, 12)],
)
@pytest.mark.parametrize(("mean", "weight"), [(3.0, 10), (4.25, 10), (2.5, 3)])
def test_the_lua_score_is_the_python_score(stars, mean, weight):
    """The score is written once per language: the scripts score with the mean
    stored beside the board, Python without Redis and for a rebuild."""
    client = get_redis_connection("default")
    probe = scripts.source("_bayesian_score") + (
        "\nreturn tostring(bayesian_score(cjson.decode(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])))"
    )
    counts = [count for _, count in stars.by_rating()]
    lua = float(client.eval(probe, 0, json.dumps(counts), mean, weight))
    assert lua == pytest.approx(bayesian_score(stars, mean=mean, weight=weight), rel=1e-12)


def test_the_release_changes_when_a_lua_script_changes(tmp_path, monkeypatch):
    lua = tmp_path / "restaurants" / "cache" / "plumbing" / "lua"
    lua.mkdir(parents=True)
    script = lua / "store.lua"
    script.write_text("return 1\n")
    monkeypatch.setattr(release, "_SITE_ROOT", tmp_path)
    before = release.derived()
    script.write_text("return 2\n")
    assert release.derived() != before
