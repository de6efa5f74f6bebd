"""Ad-hoc retrieval test collections (CISI, Vaswani NPL).

The data is never copied into the repository. It lives in a shared data
directory, found by :func:`data_root`, whose IR folders share one schema:
``corpus.jsonl`` (``id``, ``title``, ``text``), ``queries.jsonl`` (``id``,
``text``) and ``qrels.tsv`` (``query_id``, ``doc_id``, ``relevance`` with a
header row).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import pathlib
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

#: Environment variable that, when set, names the data directory directly.
DATA_ENV_VAR = "LTRR_DATA"

#: Collection name -> folder under the data root.
IR_COLLECTIONS: dict[str, str] = {
    "cisi": "ir_cisi",
    "vaswani": "ir_vaswani_npl",
}


@dataclass
class IRCollection:
    """An ad-hoc retrieval test collection held in memory.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"cisi"``.
    doc_ids, titles, texts : list of str
        Parallel lists, one entry per document, in file order. A missing
        title is the empty string.
    query_ids, queries : list of str
        Parallel lists, one entry per kept query, in file order.
    qrels : dict of str to dict of str to int
        ``qrels[query_id][doc_id] = grade`` for every judged pair of a kept
        query.
    """

    name: str
    doc_ids: list[str]
    titles: list[str]
    texts: list[str]
    query_ids: list[str]
    queries: list[str]
    qrels: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def n_docs(self) -> int:
        """Number of documents."""
        return len(self.doc_ids)

    @property
    def n_queries(self) -> int:
        """Number of kept queries."""
        return len(self.query_ids)


def _ancestors(start: pathlib.Path) -> list[pathlib.Path]:
    start = start.resolve()
    return [start, *start.parents]


def data_root() -> pathlib.Path:
    """Locate the shared data directory.

    The environment variable ``LTRR_DATA`` wins when it is set. Otherwise
    the directories above the current working directory, then those above
    this file, are searched for one holding ``shared/data``; for a checkout
    at ``<repo>`` that is ``<repo>/../shared/data``.

    Returns
    -------
    pathlib.Path
        The resolved data directory.

    Raises
    ------
    FileNotFoundError
        If ``LTRR_DATA`` names a missing directory, or no ``shared/data`` was
        found; the message lists every place searched.
    """
    env_value = os.environ.get(DATA_ENV_VAR)
    if env_value:
        root = pathlib.Path(env_value).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(
                f"{DATA_ENV_VAR}={env_value!r} is not a directory; point it at the shared "
                "data directory (the one holding ir_cisi/, ir_vaswani_npl/, ...) or unset it."
            )
        return root.resolve()

    searched: list[pathlib.Path] = []
    for start in (pathlib.Path.cwd(), pathlib.Path(__file__).parent):
        for directory in _ancestors(start):
            candidate = directory / "shared" / "data"
            if candidate in searched:
                continue
            searched.append(candidate)
            if candidate.is_dir():
                logger.debug("data root found at %s", candidate)
                return candidate

    looked = "\n  ".join(str(path) for path in searched)
    raise FileNotFoundError(
        "shared data directory not found. Set the environment variable "
        f"{DATA_ENV_VAR} to its path, or place it at <repo>/../shared/data. "
        f"Looked in:\n  {looked}"
    )


def _read_jsonl(path: pathlib.Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _read_qrels(path: pathlib.Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if header != ["query_id", "doc_id", "relevance"]:
            raise ValueError(
                f"{path}: expected header ['query_id', 'doc_id', 'relevance'], got {header}"
            )
        for row in reader:
            if not row:
                continue
            query_id, doc_id, grade = row
            qrels.setdefault(query_id, {})[doc_id] = int(grade)
    return qrels


def load_ir(name: str) -> IRCollection:
    """Load an ad-hoc retrieval test collection from the shared data directory.

    Only queries with at least one judged document in ``qrels.tsv`` are kept
    (CISI has 112 queries of which 76 are judged; all 93 Vaswani queries are
    judged). Documents keep their file order.

    Parameters
    ----------
    name : str
        ``"cisi"`` or ``"vaswani"`` (case-insensitive).

    Returns
    -------
    IRCollection
        Documents, kept queries and their relevance judgements.

    Raises
    ------
    ValueError
        If ``name`` is not a known collection.
    FileNotFoundError
        If the data directory or one of the collection's files is missing.
    """
    key = name.lower()
    if key not in IR_COLLECTIONS:
        valid = ", ".join(repr(known) for known in sorted(IR_COLLECTIONS))
        raise ValueError(f"unknown IR collection {name!r}; valid names are: {valid}")

    folder = data_root() / IR_COLLECTIONS[key]
    paths = {part: folder / part for part in ("corpus.jsonl", "queries.jsonl", "qrels.tsv")}
    for path in paths.values():
        if not path.is_file():
            raise FileNotFoundError(f"collection {key!r}: missing file {path}")

    docs = _read_jsonl(paths["corpus.jsonl"])
    all_queries = _read_jsonl(paths["queries.jsonl"])
    all_qrels = _read_qrels(paths["qrels.tsv"])

    # Keep only judged queries, in file order, with their judgements.
    kept = [query for query in all_queries if all_qrels.get(str(query["id"]))]
    qrels = {str(query["id"]): all_qrels[str(query["id"])] for query in kept}
    n_orphans = len(set(all_qrels) - {str(query["id"]) for query in all_queries})
    if n_orphans:
        logger.warning("%s: %d judged query ids have no query text", key, n_orphans)
    logger.debug("%s: %d docs, %d of %d queries kept", key, len(docs), len(kept), len(all_queries))

    return IRCollection(
        name=key,
        doc_ids=[str(doc["id"]) for doc in docs],
        titles=[doc.get("title") or "" for doc in docs],
        texts=[doc.get("text") or "" for doc in docs],
        query_ids=[str(query["id"]) for query in kept],
        queries=[query["text"] for query in kept],
        qrels=qrels,
    )
