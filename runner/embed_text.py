#!/usr/bin/env python3
"""Turns a text file into a C++ source defining it as a std::string_view.

Usage: embed_text.py INPUT OUTPUT NAMESPACE::NAME
Used for runner/framework.lua, so the Lua half of the framework ships inside
the binary (the sandboxed runner cannot open files).
"""
import sys


def main() -> int:
    source, output, qualified = sys.argv[1:4]
    namespace, _, name = qualified.rpartition("::")
    with open(source, encoding="utf-8") as handle:
        text = handle.read()
    delimiter = "provium_embed"
    if f"){delimiter}\"" in text:
        sys.exit(f"{source}: contains the raw-string delimiter {delimiter}")
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(f"// Generated from {source} by embed_text.py. Do not edit.\n")
        handle.write("#include <string_view>\n\n")
        handle.write(f"namespace {namespace} {{\n\n")
        handle.write(f"extern const std::string_view {name};\n")
        handle.write(f"const std::string_view {name} = R\"{delimiter}({text}){delimiter}\";\n\n")
        handle.write(f"}}  // namespace {namespace}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
