"""The text of a PDF written by reportlab, read back with the standard library only.

No PDF reader is a dependency of cartflow (poppler's pdftotext is not on every machine), and a
label test must read what a printer would print, not the drawing before it was written. This reads
what every PDF viewer reads: each page's content stream (ASCII85 and Flate filters), the font
selected for each string (`Tf`), the strings shown (`Tj`, `TJ`), and each embedded font's
ToUnicode map, which turns the subset font's one-byte codes back into characters. Fonts without a
map (the standard Type 1 fonts) are read as WinAnsi (cp1252).
"""

from __future__ import annotations

import base64
import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)\s*endobj", re.S)
_TOKEN = re.compile(
    rb"\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>|\[|\]|/[^\s/\[\]()<>]+|[^\s/\[\]()<>]+", re.S
)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _stream(body: bytes) -> bytes:
    head, _, rest = body.partition(b"stream")
    data = rest[: rest.rindex(b"endstream")].strip(b"\r\n")
    filters = re.findall(rb"/(ASCII85Decode|FlateDecode)", head)
    for name in filters:
        if name == b"ASCII85Decode":
            data = base64.a85decode(data.strip().removesuffix(b"~>").strip(), adobe=False)
        else:
            data = zlib.decompress(data)
    return data


def _literal(token: bytes) -> bytes:
    body, out, index = token[1:-1], bytearray(), 0
    while index < len(body):
        char = body[index : index + 1]
        if char != b"\\":
            out += char
            index += 1
            continue
        following = body[index + 1 : index + 2]
        octal = re.match(rb"[0-7]{1,3}", body[index + 1 : index + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            index += 1 + len(octal.group())
        elif following in (b"\n", b"\r"):
            index += 2
        else:
            out += _ESCAPES.get(following, following)
            index += 2
    return bytes(out)


def _unicode_map(cmap: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, start in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            first = int(start, 16)
            for offset, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                mapping[code] = chr(first + offset)
    return mapping


def pdf_text(pdf: bytes) -> list[str]:
    """Every string the PDF shows, one entry per `Tj` (a label's strings are whole lines)."""
    objects = {int(number): body for number, body in _OBJECT.findall(pdf)}
    fonts: dict[bytes, dict[int, str] | None] = {}
    for body in objects.values():
        name = re.search(rb"/Name\s*/(\S+)", body)
        if name is None or b"/Type /Font" not in body:
            continue
        to_unicode = re.search(rb"/ToUnicode\s+(\d+) 0 R", body)
        fonts[name.group(1)] = (
            _unicode_map(_stream(objects[int(to_unicode.group(1))])) if to_unicode else None
        )
    shown: list[str] = []
    for body in objects.values():
        if b"/Type /Page" in body and b"/Contents" in body:
            contents = re.search(rb"/Contents\s+(\d+) 0 R", body)
            assert contents is not None
            shown += _shown(_stream(objects[int(contents.group(1))]), fonts)
    return shown


def _shown(content: bytes, fonts: dict[bytes, dict[int, str] | None]) -> list[str]:
    out: list[str] = []
    operands: list[bytes] = []
    current: dict[int, str] | None = None
    for token in _TOKEN.findall(content):
        if token == b"Tf" and len(operands) >= 2:
            current = fonts.get(operands[-2].lstrip(b"/"))
        elif token in (b"Tj", b"TJ", b"'", b'"'):
            codes = b"".join(
                _literal(o) if o.startswith(b"(") else bytes.fromhex(o[1:-1].decode())
                for o in operands
                if o.startswith((b"(", b"<"))
            )
            if current is None:
                out.append(codes.decode("cp1252", errors="replace"))
            else:
                out.append("".join(current.get(code, "\ufffd") for code in codes))
        if token.isalpha() or token in (b"'", b'"', b"T*"):
            operands = []
        else:
            operands.append(token)
    return out
