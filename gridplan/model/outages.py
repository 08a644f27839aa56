"""Read named outage sets (N-k) for ``gridplan n1 --outages FILE``.

Formats (chosen by extension and content):

- CSV (``.csv``): columns ``name,element_type,element``; rows sharing a ``name`` are one outage.
- gridplan JSON (``.json``): ``{"outages": [{"name": "...", "elements": [["line", 3], ...]}]}``
  (elements also as ``{"type": "line", "index": 3}``).
- pypowsybl contingency JSON (``.json`` with ``"contingencies"``): each contingency's
  ``elements`` ``{"id": ..., "type": "BRANCH" | "LINE" | "TWO_WINDINGS_TRANSFORMER" |
  "THREE_WINDINGS_TRANSFORMER" | "GENERATOR" | "HVDC_LINE" | "BATTERY"}``; ``id`` is matched
  against element names, then against indices.
- PSS/E ``.con`` (single and double branch subset): ``CONTINGENCY name`` blocks of
  ``OPEN|TRIP|DISCONNECT BRANCH FROM BUS i TO BUS j [CIRCUIT|CKT c]`` lines ended by ``END``;
  bus numbers are matched against ``net.bus.name``, then the bus index. Anything else
  (machines, loads, buses, ``SET``/``CHANGE``, more than two branches) is refused with the
  line number.

Every problem found is reported in one :class:`~gridplan.errors.CaseError`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandapower as pp
import pandas as pd

from gridplan.errors import CaseError, format_problems, utf8_problem

OutageSpec = tuple[str, list[tuple[str, int]]]
TYPES = ("line", "trafo", "trafo3w", "impedance", "gen", "dcline", "sgen", "storage")
POWSYBL_TYPES = {
    # a case converted from pypowsybl holds some of its lines as pandapower impedances
    "BRANCH": ("line", "trafo", "impedance"),
    "LINE": ("line", "impedance"),
    "TWO_WINDINGS_TRANSFORMER": ("trafo",),
    "THREE_WINDINGS_TRANSFORMER": ("trafo3w",),
    "GENERATOR": ("gen",),
    "HVDC_LINE": ("dcline",),
    "BATTERY": ("storage",),
}


def read_outages(path: str | Path, net: pp.pandapowerNet) -> list[OutageSpec]:
    """Outage sets of ``path`` checked against ``net``: ``[(name, [(type, index), ...]), ...]``."""
    p = Path(path)
    if not p.is_file():
        raise CaseError(f"{p}: outage file not found")
    try:
        p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaseError(f"{p}: {utf8_problem(exc)}") from None
    ext = p.suffix.lower()
    if ext == ".csv":
        specs, problems = _read_csv(p)
    elif ext == ".json":
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CaseError(f"{p}: not valid JSON ({exc})") from exc
        if isinstance(data, dict) and "contingencies" in data:
            specs, problems = _read_powsybl(data, net)
        else:
            specs, problems = _read_json(data)
        if specs is None:
            raise CaseError(format_problems(str(p), problems))
    elif ext == ".con":
        specs, problems = _read_con(p, net)
    else:
        raise CaseError(
            f"{p}: outage file must be .csv, .json or .con, got {ext or 'no extension'} instead"
        )
    problems += _check(specs, net)
    if problems:
        raise CaseError(format_problems(str(p), problems))
    if not specs:
        raise CaseError(f"{p}: no outages found")
    return specs


def _check(specs: list[OutageSpec], net: pp.pandapowerNet) -> list[str]:
    problems = []
    seen = set()
    for name, elems in specs:
        if name in seen:
            problems.append(f"outage name {name!r} must be unique, got it twice")
        seen.add(name)
        if not elems:
            problems.append(f"outage {name!r} must name at least one element")
        for kind, idx in elems:
            if kind not in TYPES:
                problems.append(
                    f"outage {name!r}: element type must be one of {', '.join(TYPES)}, "
                    f"got {kind!r} instead"
                )
            elif idx not in net[kind].index:
                problems.append(f"outage {name!r}: {kind} {idx} does not exist")
    return problems


def _read_csv(p: Path) -> tuple[list[OutageSpec], list[str]]:
    try:
        df = pd.read_csv(p, dtype={"name": str, "element_type": str})
    except Exception as exc:
        raise CaseError(f"{p}: cannot read CSV ({exc})") from exc
    missing = [c for c in ("name", "element_type", "element") if c not in df.columns]
    if missing:
        raise CaseError(
            f"{p}: columns must include name, element_type, element; missing {', '.join(missing)}"
        )
    problems = []
    specs: dict[str, list[tuple[str, int]]] = {}
    for row, r in enumerate(df.itertuples(index=False), start=2):
        try:
            idx = int(r.element)
        except (TypeError, ValueError):
            problems.append(
                f"line {row}: element must be an integer index, got {r.element!r} instead"
            )
            continue
        specs.setdefault(str(r.name), []).append((str(r.element_type).strip(), idx))
    return list(specs.items()), problems


def _read_json(data: object) -> tuple[list[OutageSpec] | None, list[str]]:
    items = data.get("outages") if isinstance(data, dict) else data
    if not isinstance(items, list):
        got = (
            f"{type(items).__name__} under 'outages'"
            if isinstance(data, dict)
            else (type(data).__name__)
        )
        return None, [f'outage JSON must be {{"outages": [...]}} or a list, got {got} instead']
    specs: list[OutageSpec] = []
    problems = []
    for k, item in enumerate(items):
        if not isinstance(item, dict) or "elements" not in item:
            problems.append(f"outage #{k} must be an object with 'elements'")
            continue
        name = str(item.get("name", f"outage {k}"))
        elems = []
        if not isinstance(item["elements"], list):
            problems.append(
                f"outage {name!r}: 'elements' must be a list, got {item['elements']!r} instead"
            )
            continue
        for e in item["elements"]:
            if isinstance(e, dict):
                e = (e.get("type"), e.get("index"))
            try:
                elems.append((str(e[0]), int(e[1])))
            except (TypeError, ValueError, IndexError):
                problems.append(
                    f"outage {name!r}: element must be [type, index], got {e!r} instead"
                )
        specs.append((name, elems))
    return specs, problems


def _by_name(net: pp.pandapowerNet, kinds: tuple[str, ...], ident: str) -> list[tuple[str, int]]:
    hits = []
    for k in kinds:
        names = net[k].name.astype(str)
        hits += [(k, int(i)) for i in net[k].index[names.to_numpy() == ident]]
    if not hits and ident.lstrip("-").isdigit():
        hits = [(k, int(ident)) for k in kinds if int(ident) in net[k].index]
    return hits


def _read_powsybl(data: dict, net: pp.pandapowerNet) -> tuple[list[OutageSpec], list[str]]:
    specs: list[OutageSpec] = []
    problems = []
    items = data.get("contingencies")
    if not isinstance(items, list):
        return [], [f"'contingencies' must be a list, got {type(items).__name__} instead"]
    for k, c in enumerate(items):
        if not isinstance(c, dict) or not isinstance(c.get("elements", []), list):
            problems.append(f"contingency #{k} must be an object with a list 'elements'")
            continue
        name = str(c.get("id", f"contingency {k}"))
        elems = []
        for e in c.get("elements", []):
            if not isinstance(e, dict):
                problems.append(
                    f"contingency {name!r}: element must be an object with id and type, "
                    f"got {e!r} instead"
                )
                continue
            typ = str(e.get("type", ""))
            if typ not in POWSYBL_TYPES:
                problems.append(
                    f"contingency {name!r}: element type must be one of "
                    f"{', '.join(POWSYBL_TYPES)}, "
                    f"got {typ!r} instead"
                )
                continue
            hits = _by_name(net, POWSYBL_TYPES[typ], str(e.get("id")))
            if len(hits) != 1:
                problems.append(
                    f"contingency {name!r}: element id {e.get('id')!r} must match exactly one "
                    f"{'/'.join(POWSYBL_TYPES[typ])} by name or index, got {len(hits)} matches"
                )
                continue
            elems.append(hits[0])
        specs.append((name, elems))
    return specs, problems


_CON_BRANCH = re.compile(
    r"^(OPEN|TRIP|DISCONNECT)\s+BRANCH\s+FROM\s+BUS\s+(\d+)\s+TO\s+BUS\s+(\d+)"
    r"(?:\s+(?:CIRCUIT|CKT)\s+'?(\w+)'?)?\s*$",
    re.IGNORECASE,
)


def _con_bus(net: pp.pandapowerNet, number: int) -> int | None:
    names = net.bus.name.astype(str).to_numpy()
    hit = net.bus.index[names == str(number)]
    if len(hit) == 1:
        return int(hit[0])
    return number if number in net.bus.index else None


def _read_con(p: Path, net: pp.pandapowerNet) -> tuple[list[OutageSpec], list[str]]:
    specs: list[OutageSpec] = []
    problems = []
    cur: tuple[str, list[tuple[str, int]], int] | None = None
    for lineno, raw in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.split("/*")[0].strip()
        if not text or text.startswith(("COM", "//")):
            continue
        up = text.upper()
        if up.startswith("CONTINGENCY"):
            name = (
                text.split(None, 1)[1].strip() if len(text.split(None, 1)) > 1 else f"con {lineno}"
            )
            cur = (name, [], lineno)
            continue
        if up == "END":
            if cur is not None:
                if len(cur[1]) > 2:
                    problems.append(
                        f"line {cur[2]}: contingency {cur[0]!r} must open one or two branches, "
                        f"got {len(cur[1])} (only the single/double-branch subset of .con "
                        "is supported)"
                    )
                specs.append((cur[0], cur[1]))
                cur = None
            continue
        if cur is None:
            problems.append(f"line {lineno}: {text!r} is outside a CONTINGENCY block")
            continue
        m = _CON_BRANCH.match(text)
        if not m:
            problems.append(
                f"line {lineno}: {text!r} is not supported (only OPEN/TRIP/DISCONNECT BRANCH "
                "FROM BUS "
                "i TO BUS j [CIRCUIT c])"
            )
            continue
        bi, bj = _con_bus(net, int(m.group(2))), _con_bus(net, int(m.group(3)))
        if bi is None or bj is None:
            problems.append(
                f"line {lineno}: bus {m.group(2) if bi is None else m.group(3)} does not exist"
            )
            continue
        cands = []
        for k, a, b in (("line", "from_bus", "to_bus"), ("trafo", "hv_bus", "lv_bus")):
            df = net[k]
            sel = ((df[a] == bi) & (df[b] == bj)) | ((df[a] == bj) & (df[b] == bi))
            cands += [(k, int(i)) for i in df.index[sel.to_numpy()]]
        ckt = m.group(4)
        if not cands:
            problems.append(
                f"line {lineno}: no line or trafo between buses {m.group(2)} and {m.group(3)}"
            )
            continue
        if ckt is None:
            pick = 0
        elif ckt.isdigit():
            pick = int(ckt) - 1
        else:
            pick = -1
        if not 0 <= pick < len(cands):
            problems.append(
                f"line {lineno}: circuit {ckt!r} must be 1..{len(cands)} between buses "
                f"{m.group(2)} and {m.group(3)}"
            )
            continue
        cur[1].append(cands[pick])
    if cur is not None:
        problems.append(f"line {cur[2]}: contingency {cur[0]!r} has no END")
    return specs, problems
