#!/usr/bin/env python3
"""Writes po/templates/leakguard.pot of luci-app-leakguard from the strings its views translate.

LuCI's own tool is build/i18n-scan.pl in openwrt/luci; this does the same for what this app uses:
single-quoted _('...') in the views, and the menu titles of menu.d. Run from the repository root:

    python3 tests/luci/i18n_scan.py > openwrt-package/luci-app-leakguard/po/templates/leakguard.pot
"""
import json
import pathlib
import re

APP = pathlib.Path("openwrt-package/luci-app-leakguard")
CALL = re.compile(r"""\b_\('((?:[^'\\]|\\.)*)'""")


def unescape(s):
    return re.sub(r"\\(.)", r"\1", s)


def po_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main():
    found = {}
    for js in sorted((APP / "htdocs").rglob("*.js")):
        for n, line in enumerate(js.read_text().splitlines(), 1):
            for m in CALL.finditer(line):
                found.setdefault(unescape(m.group(1)), []).append(f"{js}:{n}")
    for menu in sorted((APP / "root/usr/share/luci/menu.d").glob("*.json")):
        for node in json.loads(menu.read_text()).values():
            if "title" in node:
                found.setdefault(node["title"], []).append(f"{menu}:1")
    print('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8"\n')
    for msgid in sorted(found, key=str.lower):
        for where in found[msgid]:
            print(f"#: {where}")
        print(f"msgid {po_quote(msgid)}\nmsgstr \"\"\n")


main()
