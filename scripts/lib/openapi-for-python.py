"""Rewrites the OpenAPI description into the shape openapi-python-client understands.

    python3 scripts/lib/openapi-for-python.py IN.json OUT.json

src/api/openapi.json states a few request bodies as one object schema whose `properties`
hold every field, plus a `oneOf` whose branches only add a constraint or two (WebhookCreate:
an http webhook needs `url`, a relay webhook has `kind: relay`; SourceCreate: one branch
per provider, each with its own `config`; RelayOutcome: `status` or `errorKind`). That is
valid JSON Schema, and openapi-typescript reads it as `Base & (A | B)`, but
openapi-python-client (0.29) reads the `oneOf` alone: the generated WebhookCreate models
would hold `kind` and `url` and lose `name` and `events`, and the SourceCreate branches
clash by name and are dropped. So, for the Python generator only:

* a branch that adds properties becomes a whole schema of its own in
  `components/schemas`: the parent's properties and `required` merged with the branch's
  (the branch wins per property), named after its `const` discriminator
  (`HttpWebhookCreate`, `MetaSourceCreate`, …), and the `oneOf` refers to them (inline
  branches with inline objects in them make the generator fail with "duplicate models");
* a `oneOf` whose branches add no properties (RelayOutcome's "one of these two fields")
  is a validation rule only, checked by the server: it is left out.

Nothing else changes. scripts/sdks runs this before the generator, and `scripts/sdks
--check` too, so the committed Python client still follows src/api/openapi.json.
"""

import copy
import json
import sys

KEEP_ON_PARENT = ("description", "examples", "example", "title")


def pascal(text):
    return "".join(part[:1].upper() + part[1:] for part in text.replace("_", "-").split("-"))


def whole_branch(parent, branch, name):
    merged = {"type": "object"}
    properties = copy.deepcopy(parent.get("properties", {}))
    for key, value in branch.get("properties", {}).items():
        properties[key] = copy.deepcopy(value)
    merged["properties"] = properties
    required = list(parent.get("required", []))
    required += [key for key in branch.get("required", []) if key not in required]
    merged["required"] = required
    for key, value in branch.items():
        if key not in ("properties", "required", "type"):
            merged[key] = copy.deepcopy(value)
    consts = [p["const"] for p in branch.get("properties", {}).values() if isinstance(p.get("const"), str)]
    if consts and "title" not in branch:
        merged["title"] = pascal(consts[0]) + name
    return merged


def normalize(name, schema, schemas):
    if not isinstance(schema, dict) or "properties" not in schema or "oneOf" not in schema:
        return schema
    branches = schema["oneOf"]
    if not any("properties" in branch for branch in branches):
        return {key: value for key, value in schema.items() if key != "oneOf"}
    out = {key: schema[key] for key in KEEP_ON_PARENT if key in schema}
    out["oneOf"] = []
    for index, branch in enumerate(branches):
        whole = whole_branch(schema, branch, name)
        branch_name = whole.get("title", f"{name}{index}")
        if branch_name in schemas:
            sys.exit(f"openapi-for-python: {name}: a schema named {branch_name} exists already")
        schemas[branch_name] = whole
        out["oneOf"].append({"$ref": f"#/components/schemas/{branch_name}"})
    return out


def main(source, target):
    with open(source, encoding="utf-8") as f:
        doc = json.load(f)
    schemas = doc["components"]["schemas"]
    for name in list(schemas):
        schemas[name] = normalize(name, schemas[name], schemas)
    with open(target, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
