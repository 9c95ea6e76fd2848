#!/usr/bin/env python3
"""Writes the fenced code blocks of one language from a Markdown file into a directory, one file
per block in order (01.sh, 02.sh, ...), so the test command can run the READMEs as written.

A block preceded by a line `<!-- not run: why -->` is skipped (and the reason printed): the
README says in its source why a block cannot run on its own.

Usage: readme_blocks.py FILE.md LANG OUT_DIR      (prints the files written)
"""
import pathlib
import sys


def blocks(text: str, lang: str):
    lines = text.splitlines()
    i, skip = 0, None
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("<!-- not run:"):
            skip = line
        elif line.startswith("```"):
            fence_lang = line[3:].strip()
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            if fence_lang == lang:
                yield skip, "\n".join(body) + "\n"
            skip = None
        elif line:
            skip = None
        i += 1


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    source, lang, out = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for skip, body in blocks(source.read_text(encoding="utf-8"), lang):
        if skip:
            print(f"{source}: skipped a {lang} block: {skip}", file=sys.stderr)
            continue
        n += 1
        path = out / f"{n:02d}.{lang}"
        path.write_text(body, encoding="utf-8")
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
