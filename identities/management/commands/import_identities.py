"""`manage.py import_identities FILE|-`: bulk-create identities from Kratos create bodies.

The input is what `kratos import identities` reads, `createIdentityBody` objects (reference §6.2):
a JSON array, a single object, or NDJSON (one body per line, blank lines ignored). The whole input
is parsed before anything is written, so a malformed file imports nothing. Records then go through
the service behind `PATCH /admin/identities` in batches: each record is created whole or not at
all, and a failed record does not stop the others.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from identities import services
from identities.api.serializers import draft_from_create_body
from kratos_project.errors import BadRequest, as_kratos_error
from kratos_project.jsonbody import sanitized
from kratos_project.progress import ProgressBar, add_progress_argument
from kratos_project.tenancy import bind_network, default_nid

DEFAULT_BATCH_SIZE = 500
MAX_BATCH_SIZE = 1000  # the admin batch endpoint's limit
_JSON_WHITESPACE = " \t\r\n"
_SKIP_WHITESPACE = re.compile(r"[ \t\r\n]*")


@dataclass(frozen=True)
class Record:
    number: int  # 1-based position in the input
    line: int  # the line the body starts on
    body: Any


class Command(BaseCommand):
    help = ("Import identities from Kratos createIdentityBody objects: a JSON array, one object, or NDJSON. "
            "FILE may be - for standard input.")
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE|-")
        parser.add_argument("--batch-size", type=_batch_size, default=DEFAULT_BATCH_SIZE,
                            help=f"Identities per transaction (default {DEFAULT_BATCH_SIZE}, at most {MAX_BATCH_SIZE}).")
        add_progress_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        records = parse_records(_read_input(options["file"], options.get("stdin") or sys.stdin))
        verbosity = options["verbosity"]
        with bind_network(default_nid()), ProgressBar(self.stderr, len(records), mode=options["progress"],
                                                      unit="identities") as progress:
            failed = sum(self._import(batch, progress, verbosity) for batch in _batches(records, options["batch_size"]))
        if verbosity >= 1:
            self.stdout.write(f"imported {len(records) - failed}, failed {failed}")
        if failed:
            raise CommandError(f"{failed} of {len(records)} identities were not imported")

    def _import(self, batch: Sequence[Record], progress: ProgressBar, verbosity: int) -> int:
        """Import one batch, report its failures (and, at verbosity 2, the new ids); return the failure count."""
        results = services.create_identities([(None, record.body) for record in batch], build=_draft)
        failures = [(record, result.error) for record, result in zip(batch, results) if result.error is not None]
        created = [result.identity for result in results if result.identity is not None] if verbosity >= 2 else []
        if failures or created:
            progress.clear()
        for record, error in failures:
            kratos_error = as_kratos_error(error)
            self.stderr.write(f"record {record.number} (line {record.line}): "
                              f"{kratos_error.reason or kratos_error.message}")
        for identity in created:
            self.stdout.write(str(identity.id))
        progress.advance(len(batch))
        return len(failures)


def _batch_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_BATCH_SIZE}, not {value!r}")
    return size


def _draft(body: Any) -> services.IdentityDraft:
    """A record's draft. Records come straight from the input's JSON, not through a request parser, so
    they are sanitized here (too deep a record fails alone, like any other invalid one)."""
    try:
        body = sanitized(body)
    except ValueError as error:
        raise BadRequest(str(error)) from error
    return draft_from_create_body(body)


def _read_input(source: str, stdin: IO[str]) -> str:
    try:
        if source == "-":
            return stdin.read().removeprefix("\ufeff")
        with open(source, encoding="utf-8-sig") as file:
            return file.read()
    except OSError as error:
        raise CommandError(f"cannot read {source}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise CommandError(f"the input is not UTF-8 text (byte {error.start}); nothing was imported") from error


def parse_records(text: str) -> list[Record]:
    """Every body of the input with its line; raises CommandError naming the line of a syntax error."""
    head = text.lstrip(_JSON_WHITESPACE)[:1]
    try:
        if head == "[":
            return _array_records(text)
        if head == "{":
            return _object_or_ndjson_records(text)
        return _ndjson_records(text)
    except RecursionError:
        raise CommandError("the input nests JSON deeper than it can be read; nothing was imported") from None


def _array_records(text: str) -> list[Record]:
    _loads(text)  # a syntax error anywhere is reported (by line) before any element is taken
    decoder = json.JSONDecoder()
    position = _SKIP_WHITESPACE.match(text, text.index("[") + 1).end()
    line = 1 + text.count("\n", 0, position)
    records: list[Record] = []
    while text[position] != "]":
        body, end = decoder.raw_decode(text, position)
        records.append(Record(len(records) + 1, line, body))
        after = _SKIP_WHITESPACE.match(text, end).end()
        if text[after] == ",":
            after = _SKIP_WHITESPACE.match(text, after + 1).end()
        line += text.count("\n", position, after)
        position = after
    return records


def _object_or_ndjson_records(text: str) -> list[Record]:
    """One (possibly pretty-printed) object, or NDJSON when the whole text is not one document."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        first_line = next(line for line in text.split("\n") if line.strip(_JSON_WHITESPACE))
        if _is_json(first_line):
            return _ndjson_records(text)
        raise _malformed(error.lineno, error.colno, error.msg) from error
    return [Record(1, 1 + text.count("\n", 0, _SKIP_WHITESPACE.match(text).end()), body)]


def _ndjson_records(text: str) -> list[Record]:
    records: list[Record] = []
    # Split on "\n" only: str.splitlines() would also split on U+2028, which JSON strings may contain.
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip(_JSON_WHITESPACE):
            records.append(Record(len(records) + 1, number, _loads(line, first_line=number)))
    return records


def _loads(text: str, *, first_line: int = 1) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _malformed(first_line + error.lineno - 1, error.colno, error.msg) from error


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


def _malformed(line: int, column: int, message: str) -> CommandError:
    return CommandError(f"invalid JSON on line {line}, column {column}: {message}; nothing was imported")


def _batches(records: Sequence[Record], size: int) -> Iterator[Sequence[Record]]:
    for start in range(0, len(records), size):
        yield records[start:start + size]
