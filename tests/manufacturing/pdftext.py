"""The words a reportlab PDF shows, read back with the standard library (no PDF reader is a
dependency and poppler's pdftotext is not installed everywhere).

A viewer finds the text the same way: each page's content stream (Flate/ASCII85), the font chosen
by `Tf`, the strings shown by `Tj`/`TJ`, and the embedded subset font's ToUnicode map from its
one-byte codes back to characters. The base-14 fonts have no map and are read as cp1252.
"""

from __future__ import annotations

import base64
import re
import zlib

_OBJ = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_TOK = re.compile(rb"\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>|[\[\]]|/[^\s/\[\]()<>]+|[^\s/\[\]()<>]+")


def _decode_stream(body: bytes) -> bytes:
    head, _sep, rest = body.partition(b"stream")
    data = rest[: rest.rindex(b"endstream")].strip(b"\r\n")
    for name in re.findall(rb"/(ASCII85Decode|FlateDecode)", head):
        if name == b"ASCII85Decode":
            data = base64.a85decode(data.strip().removesuffix(b"~>"), adobe=False)
        else:
            data = zlib.decompress(data)
    return data


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    body = literal[1:-1]
    i = 0
    while i < len(body):
        if body[i : i + 1] != b"\\":
            out += body[i : i + 1]
            i += 1
            continue
        octal = re.match(rb"[0-7]{1,3}", body[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
            continue
        nxt = body[i + 1 : i + 2]
        out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(nxt, nxt)
        i += 2
    return bytes(out)


def _cmap(stream: bytes) -> dict[int, str]:
    table: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
        for low, high, first in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                table[code] = chr(int(first, 16) + offset)
    return table


def pdf_text(pdf: bytes) -> str:
    """All the text the PDF's pages show, strings joined by spaces."""
    objects = {int(n): body for n, body in _OBJ.findall(pdf)}
    fonts: dict[bytes, dict[int, str] | None] = {}
    for body in objects.values():
        name = re.search(rb"/Name\s*/(\S+)", body)
        if name is not None and b"/Type /Font" in body:
            ref = re.search(rb"/ToUnicode\s+(\d+) 0 R", body)
            fonts[name.group(1)] = (
                _cmap(_decode_stream(objects[int(ref.group(1))])) if ref else None
            )
    shown: list[str] = []
    for body in objects.values():
        contents = re.search(rb"/Contents\s+(\d+) 0 R", body)
        if b"/Type /Page" in body and contents is not None:
            shown += _strings(_decode_stream(objects[int(contents.group(1))]), fonts)
    return " ".join(shown)


def _strings(content: bytes, fonts: dict[bytes, dict[int, str] | None]) -> list[str]:
    out: list[str] = []
    operands: list[bytes] = []
    font: dict[int, str] | None = None
    for token in _TOK.findall(content):
        if token == b"Tf" and len(operands) >= 2:
            font = fonts.get(operands[-2].lstrip(b"/"))
        elif token in (b"Tj", b"TJ", b"'", b'"'):
            codes = b"".join(
                _unescape(o) if o.startswith(b"(") else bytes.fromhex(o[1:-1].decode())
                for o in operands
                if o.startswith((b"(", b"<"))
            )
            if font is None:
                out.append(codes.decode("cp1252", errors="replace"))
            else:
                out.append("".join(font.get(code, "\ufffd") for code in codes))
        if token.isalpha() or token in (b"'", b'"', b"T*"):
            operands = []
        else:
            operands.append(token)
    return out
