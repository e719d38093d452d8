#!/usr/bin/env python3
"""The layer check's own test: its edge rule on a made-up graph, where the answer is known."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import check_layers  # noqa: E402

FOLDERS = {"Lock": "Base", "TextOutput": "Text", "PromWriter": "Metrics", "Recorder": "Process",
           "RecordABI": "ABI"}
PROVIDERS = {
    ("topLevel", "", "Lock"): {"Lock"},
    ("topLevel", "", "Recorder"): {"Recorder"},
    ("topLevel", "", "TextOutput"): {"TextOutput"},
    # an overloaded member: declared for TextOutput in Text and in an extension in Metrics
    ("member", "TextOutput", "append"): {"TextOutput", "PromWriter"},
    # a member only an upper layer's extension declares
    ("member", "TextOutput", "appendSample"): {"PromWriter"},
}
USES = {
    "Lock": {("topLevel", "", "Recorder")},                                  # Base -> Process: backward
    "TextOutput": {("member", "TextOutput", "append"),                       # own overload exists: fine
                   ("member", "TextOutput", "appendSample")},                # only above: backward
    "Recorder": {("topLevel", "", "Lock"), ("topLevel", "", "TextOutput")},  # downward: fine
    "RecordABI": {("topLevel", "", "Recorder"), ("topLevel", "", "Undeclared")},  # unknown name: ignored
}


def main():
    found = sorted((a, b, name, stem) for a, b, name, stem, allowed in
                   check_layers.edges(FOLDERS, PROVIDERS, USES) if not allowed)
    expected = [("Base", "Process", "Recorder", "Lock"),
                ("Text", "Metrics", "TextOutput.appendSample", "TextOutput")]
    if found != expected:
        sys.exit(f"check_layers self-test: found {found}, expected {expected}")
    print(f"check_layers self-test: the rule finds exactly the {len(expected)} backward uses of the made-up graph")


if __name__ == "__main__":
    main()
