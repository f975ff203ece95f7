"""Every built-in type asyncpg decodes, and an array of each, round-trips
through the generated functions on the real server: INSERT … RETURNING,
SELECT, and binary COPY (json and jsonb included). The model annotations
describe exactly what asyncpg returns: each row validates against its own
model in pydantic's strict mode."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
)
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from asyncpg import (
    BitString,
    Box,
    Circle,
    Line,
    LineSegment,
    Point,
    Polygon,
    Range,
)
from asyncpg import Path as GeoPath

from plugin_support import (
    Example,
    connected,
    generated_packages,
    static_checks,
)

CORPUS = Path(__file__).parent / "types"
EXAMPLE = Example("types_gen", CORPUS / "schema.sql", CORPUS / "query.sql")
DAY = timedelta(days=1)
START = datetime(2024, 1, 1, 8, 30)
START_UTC = datetime(2024, 1, 1, 8, 30, tzinfo=UTC)


def bits(text: str) -> BitString:
    return BitString.from_int(int(text or "0", 2), len(text))


# column stem -> (a value, an array value), each as the server gives it back.
VALUES: dict[str, tuple[Any, list[Any]]] = {
    "inet": (
        IPv4Interface("192.168.0.1/24"),
        [IPv4Address("10.1.2.3"), IPv6Address("::1"), IPv6Interface("2001:db8::1/64")],
    ),
    "cidr": (IPv4Network("10.0.0.0/8"), [IPv6Network("2001:db8::/32")]),
    "bit": (bits("101"), [bits("010"), bits("111")]),
    "varbit": (bits("1"), [bits("10"), bits("")]),
    "point": (Point(1, 2), [Point(-1.5, 0)]),
    "line": (Line(1, 2, 3), [Line(0, 1, -2)]),
    "lseg": (LineSegment((1, 2), (3, 4)), [LineSegment((0, 0), (1, 1))]),
    "box": (Box((3, 4), (1, 2)), [Box((1, 1), (0, 0))]),
    # asyncpg cannot send path[], polygon[] or multirange arrays (it takes
    # their elements for nested arrays); test_server_built_arrays reads them.
    "path": (GeoPath((1, 2), (3, 4), is_closed=False), []),
    "polygon": (Polygon((1, 2), (3, 4), (5, 6)), []),
    "circle": (Circle(Point(1, 2), 3), [Circle(Point(0, 0), 0.5)]),
    "int4range": (Range(1, 5), [Range(-3, 0), Range(empty=True)]),
    "int8range": (Range(1, 2**40), [Range(None, 7)]),
    "numrange": (Range(Decimal("1.5"), Decimal("2")), [Range(Decimal("0"), None)]),
    "tsrange": (Range(START, START + DAY), [Range(START, None)]),
    "tstzrange": (Range(START_UTC, START_UTC + DAY), [Range(None, START_UTC)]),
    "daterange": (Range(date(2024, 1, 1), date(2024, 2, 1)), [Range(empty=True)]),
    "int4multirange": ([Range(1, 3), Range(5, 7)], []),
    "int8multirange": ([Range(1, 2**40)], []),
    "nummultirange": ([Range(Decimal("0.5"), Decimal("1"))], []),
    "tsmultirange": ([Range(START, START + DAY)], []),
    "tstzmultirange": ([Range(START_UTC, START_UTC + DAY)], []),
    "datemultirange": ([Range(date(2024, 1, 1), date(2024, 1, 3))], []),
    "oid": (5, [0, 4_294_967_295]),
    "pg_lsn": (97_500_059_720, [0]),
    "interval": (timedelta(days=1, hours=2), [timedelta(microseconds=-1)]),
    "timetz": (time(12, 0, tzinfo=timezone(timedelta(hours=2))), []),
    "xid8": (5, [2**40]),
    "char": (b"c", [b"x", b"y"]),
    "tid": ((1, 2), [(0, 1)]),
    "pg_snapshot": ((10, 20, (10, 14, 15)), [(5, 5, ())]),
    "json": ({"a": [1, None, "é"]}, [{"b": [True]}, "text", 1.5]),
    "jsonb": ({"a": [1, None, "é"]}, [{"b": True}, None, 0]),
}


# Types asyncpg sends as text only (binary COPY refuses them: test_errors.py).
TEXT_VALUES: dict[str, tuple[Any, list[Any]]] = {
    "macaddr": ("08:00:2b:01:02:03", ["08:00:2b:01:02:04"]),
    "macaddr8": ("08:00:2b:01:02:03:04:05", ["08:00:2b:ff:fe:01:02:03"]),
    "money": ("$12.50", ["$0.01", "-$3.00"]),
    "tsvector": ("'a' 'cat' 'fat'", ["'dog'"]),
    "tsquery": ("'fat' & 'cat'", ["'dog' | 'cat'"]),
}


def sample(
    row_id: int, values: dict[str, tuple[Any, list[Any]]] = VALUES
) -> dict[str, Any]:
    row: dict[str, Any] = {"id": row_id}
    for stem, (value, array) in values.items():
        row[f"{stem}_v"] = value
        row[f"{stem}_a"] = array
    return row


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    workdir = tmp_path_factory.mktemp("types")
    with generated_packages(workdir, [EXAMPLE]) as generated_dir:
        yield generated_dir


def gen(module: str) -> Any:
    return importlib.import_module(f"{EXAMPLE.package}.{module}")


def test_generated_code_passes_ruff_and_mypy_strict(generated: Path) -> None:
    static_checks(generated, [EXAMPLE.package])


def test_every_column_has_its_asyncpg_type(generated: Path) -> None:
    fields = gen("models").Sample.model_fields
    annotations = {name: str(f.annotation) for name, f in fields.items()}
    assert set(annotations) == set(sample(0))
    expected = {
        "inet_v": "IPv4Address | IPv6Address | IPv4Interface | IPv6Interface",
        "cidr_a": "list[IPv4Network | IPv6Network]",
        "bit_v": "<class 'asyncpg.pgproto.types.BitString'>",
        "int4range_v": "asyncpg.types.Range[int]",
        "datemultirange_v": "list[asyncpg.types.Range[datetime.date]]",
        "pg_lsn_v": "<class 'int'>",
        "char_v": "<class 'bytes'>",
        "pg_snapshot_v": "tuple[int, int, tuple[int, ...]]",
        "jsonb_a": "list[JsonValue]",
    }
    for name, annotation in expected.items():
        assert annotation.replace("ipaddress.", "") in annotations[name].replace(
            "ipaddress.", ""
        ), name


async def test_round_trip_of_every_type(generated: Path, pg_admin_url: str) -> None:
    q, models = gen("query"), gen("models")
    async with connected(pg_admin_url, EXAMPLE) as conn:
        inserted = await q.insert_sample(conn, **sample(1))
        assert isinstance(inserted, models.Sample)
        assert inserted.model_dump() == sample(1)
        # The annotations are what asyncpg decodes: strict validation passes.
        assert models.Sample.model_validate(inserted.__dict__, strict=True) == inserted
        assert await q.get_sample(conn, id=1) == inserted
        text = await q.insert_text_sample(conn, **sample(1, TEXT_VALUES))
        assert text.model_dump() == sample(1, TEXT_VALUES)
        assert models.TextSample.model_validate(text.__dict__, strict=True) == text


async def test_copy_of_every_type(generated: Path, pg_admin_url: str) -> None:
    """Binary COPY carries every type, json and jsonb through the package's
    binary codecs."""
    q = gen("query")
    async with connected(pg_admin_url, EXAMPLE) as conn:
        rows = [q.CopySamplesParams(**sample(n)) for n in (2, 3)]
        assert await q.copy_samples(conn, rows) == 2
        for n in (2, 3):
            copied = await q.get_sample(conn, id=n)
            assert copied is not None
            assert copied.model_dump() == sample(n)
        stored = await conn.fetchval("SELECT jsonb_v::text FROM samples WHERE id = 2")
        assert stored == '{"a": [1, null, "é"]}'


async def test_copy_of_json_needs_the_binary_codecs(
    generated: Path, pg_admin_url: str
) -> None:
    """The fault the binary codecs fix: with text-format JSON codecs (as
    before), asyncpg's binary COPY cannot send json or jsonb."""
    q = gen("query")
    async with connected(pg_admin_url, EXAMPLE) as conn:
        for name in ("json", "jsonb"):
            await conn.set_type_codec(
                name, encoder=str, decoder=str, schema="pg_catalog"
            )
        with pytest.raises(asyncpg.exceptions.InternalClientError, match="binary"):
            await q.copy_samples(conn, [q.CopySamplesParams(**sample(4))])


async def test_server_built_arrays(generated: Path, pg_admin_url: str) -> None:
    q = gen("query")
    async with connected(pg_admin_url, EXAMPLE) as conn:
        row = await q.server_built_arrays(conn)
        assert row.paths == [GeoPath((0, 0), (1, 0), is_closed=True)]
        assert row.polygons == [Polygon((0, 0), (1, 0), (0, 1))]
        assert row.multiranges == [[Range(1, 3), Range(5, 7)], []]


async def test_xml(generated: Path, pg_admin_url: str) -> None:
    """xml maps to str. A server built without libxml refuses every xml
    value, which the round trip then shows as that server error."""
    q, models = gen("query"), gen("models")
    assert models.XmlSample.model_fields["docs"].annotation == list[str]
    async with connected(pg_admin_url, EXAMPLE) as conn:
        try:
            await conn.fetchval("SELECT '<a/>'::xml")
        except asyncpg.FeatureNotSupportedError:
            with pytest.raises(asyncpg.FeatureNotSupportedError, match="libxml"):
                await q.insert_xml(conn, id=1, doc="<a>x</a>", docs=["<b/>"])
            return
        row = await q.insert_xml(conn, id=1, doc="<a>x</a>", docs=["<b/>"])
        assert (row.doc, row.docs) == ("<a>x</a>", ["<b/>"])
        assert await q.copy_xml(conn, [q.CopyXmlParams(2, "<c/>", [])]) == 1
        assert await q.get_xml(conn, id=2) == models.XmlSample(
            id=2, doc="<c/>", docs=[]
        )
