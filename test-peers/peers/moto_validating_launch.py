"""Run moto server with every request first validated against the service's botocore model.

Why: the AWS SDK for Rust does not check length, range, enum or pattern constraints before
it sends a request, and moto stores whatever it receives. The real services reject such
requests (e.g. AWS Identity Store answers CreateGroup with ``Description=""`` by a
ValidationException: the model's minimum length is 1). This launcher serves moto's own WSGI
application, exactly as ``moto_server`` does, behind a WSGI middleware that

1. identifies the service and operation of each request: JSON protocols (identitystore,
   sso-admin, ssm, ...) by the ``X-Amz-Target`` header, whose prefix is the model's
   ``targetPrefix``; query protocols (iam, sts, ec2, ...) by the ``Action`` parameter and
   the SigV4 credential scope's service (``Credential=AKID/20260101/us-east-1/iam/aws4_request``,
   header or presigned query string), disambiguated by ``Version`` where a signing name is
   shared. Anything else (``/moto-api``, REST protocols, CBOR, unknown services) passes
   through unvalidated;
2. rebuilds the operation's input: the JSON body, or the un-flattened query form
   (``Tags.member.1.Key``, EC2's ``Filter.1.Value.1``) using the serialized names of the
   shapes (locationName / queryName, EC2 capitalisation, flattened lists, map entries);
   the body is put back as a fresh ``io.BytesIO`` so that moto still reads it (and SigV4
   checks still see the same bytes);
3. walks the input shape: required members, types, string/blob length min and max,
   list/map size min and max, number range min and max, enum membership, unions and
   ``pattern`` (compiled with Python ``re`` in ASCII mode - ``\\w`` and ``\\d`` are ASCII
   in the services' regex engines; patterns ``re`` cannot compile, e.g. ``\\p{L}``, are
   skipped and named once on stderr). Patterns are matched against the whole value, as
   the services do (IAM rejects ``UserName="a b"`` with "Member must satisfy regular
   expression pattern: [\\w+=,.@-]+", though the pattern has no anchors);
   ``--pattern-match search-unless-anchored`` uses ``re.search`` for patterns not
   anchored at both ends instead;
4. on violations, appends one JSON line ``{"service","operation","violations","path"}``
   to ``--violations-log`` (``path`` is the HTTP path) and answers as the real service:
   HTTP 400 with ``{"__type":"ValidationException","message":...}`` and
   ``x-amzn-ErrorType: ValidationException`` for JSON protocols; an XML ``ErrorResponse``
   with Code ``ValidationError`` for query protocols (iam, sts, ...); EC2's
   ``Response/Errors/Error`` with ``InvalidParameterValue`` (``MissingParameter`` when
   only required members are missing). Messages name the member, the rule and the
   value's length, never the value;
5. requests with the header ``x-request-validator-expect: violation`` are validated and
   answered the same way, but logged to ``<violations-log>.expected`` (for tests that
   send a bad request on purpose).

If the validator itself fails on a request, the request passes on to moto and a line with
``validator_error`` is written to the violations log, so that the failure is not silent.

Usage (started as a background job, stopped with SIGTERM by PID; SIGINT works too):

    MOTO_IAM_LOAD_MANAGED_POLICIES=true .peers/moto/bin/python \\
        test-peers/peers/moto_validating_launch.py --host 127.0.0.1 --port 0 \\
        --violations-log .peers/run/moto.violations

It prints ``MOTO_URL=http://HOST:PORT`` (flushed) as soon as the socket is bound, for
``--port 0`` (the OS picks a free port) as for a fixed port, and sets ``MOTO_PORT`` to the
bound port when unset, as ``moto_server`` does. moto's settings (e.g.
``MOTO_IAM_LOAD_MANAGED_POLICIES``) come from the environment as with ``moto_server``.

Checked against moto 5.2.5 and botocore 1.44.5. moto internals relied on (re-check when
upgrading): ``moto.moto_server.werkzeug_app.DomainDispatcherApplication``,
``create_backend_app`` and ``MotoRequestHandler`` (what ``moto.server.main`` wires into
werkzeug's ``run_simple``; here ``werkzeug.serving.make_server`` + ``serve_forever``, as
moto's ``ThreadedMotoServer`` does), and that moto reads request bodies from
``environ["wsgi.input"]`` with ``CONTENT_LENGTH``. botocore: ``Session.get_service_model``,
the data loader's ``search_paths`` / ``list_available_services`` /
``determine_latest_version`` and the ``service-2.json[.gz]`` layout (its ``metadata``
object is read to index ``targetPrefix`` and signing names without loading every model).
"""

import argparse
import base64
import binascii
import gzip
import io
import json
import math
import os
import re
import signal
import sys
import threading
import traceback
import uuid
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape as xml_escape

import botocore.session
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

EXPECT_HEADER = "HTTP_X_REQUEST_VALIDATOR_EXPECT"
CREDENTIAL_RE = re.compile(r"Credential=([^,\s]+)")
QUERY_PROTOCOLS = ("query", "ec2")
# Query parameters that are part of the protocol or of SigV4/SigV2, not of the input shape.
QUERY_ENVELOPE = {"Action", "Version"}
MAX_ENUM_SHOWN = 30  # EC2's InstanceType has over 1,000 values: count them instead


def log(message):
    print(f"moto_validating_launch: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- models


class Models:
    """botocore service models, plus indexes from wire identifiers to service names."""

    def __init__(self):
        self.session = botocore.session.get_session()
        self.lock = threading.Lock()
        self.models = {}
        self.by_target = {}  # targetPrefix -> [service]
        self.by_signing = {}  # signing name (and endpoint prefix) -> [service]
        self.metadata = {}
        self._index()

    def _index(self):
        loader = self.session.get_component("data_loader")
        for name in loader.list_available_services("service-2"):
            try:
                meta = self._read_metadata(loader, name)
            except Exception as error:  # noqa: BLE001 - one broken model must not stop us
                log(f"cannot index service {name}: {error}")
                continue
            self.metadata[name] = meta
            if meta.get("targetPrefix"):
                self.by_target.setdefault(meta["targetPrefix"], []).append(name)
            protocols = set(meta.get("protocols") or []) | {meta.get("protocol")}
            if protocols & set(QUERY_PROTOCOLS):
                for key in {meta.get("signingName"), meta.get("endpointPrefix")} - {None}:
                    self.by_signing.setdefault(key.lower(), []).append(name)

    @staticmethod
    def _read_metadata(loader, name):
        """The model's ``metadata`` object, read from the head of its file when possible."""
        version = loader.determine_latest_version(name, "service-2")
        for root in loader.search_paths:
            for suffix, opener in ((".json", open), (".json.gz", gzip.open)):
                path = os.path.join(root, name, version, "service-2" + suffix)
                if not os.path.isfile(path):
                    continue
                with opener(path, "rt", encoding="utf-8") as handle:
                    text = ""
                    for size in (8192, 65536, None):
                        text += handle.read(size) if size else handle.read()
                        start = text.find('"metadata"')
                        if start >= 0:
                            brace = text.find("{", start)
                            try:
                                meta, _ = json.JSONDecoder().raw_decode(text, brace)
                                return meta
                            except ValueError:
                                pass
                        if size is None:
                            break
        return loader.load_service_model(name, "service-2")["metadata"]

    def get(self, name):
        with self.lock:
            model = self.models.get(name)
            if model is None:
                model = self.session.get_service_model(name)
                self.models[name] = model
            return model


# --------------------------------------------------------------------------- patterns


class Patterns:
    def __init__(self, mode):
        self.mode = mode
        self.lock = threading.Lock()
        self.compiled = {}

    def check(self, pattern, value):
        """True if value satisfies pattern, None if the pattern cannot be checked."""
        with self.lock:
            if pattern not in self.compiled:
                try:
                    self.compiled[pattern] = re.compile(pattern, re.ASCII)
                except (re.error, OverflowError) as error:
                    self.compiled[pattern] = None
                    log(f"pattern not checked (Python re: {error}): {pattern!r}")
            regex = self.compiled[pattern]
        if regex is None:
            return None
        anchored = pattern.startswith("^") and pattern.endswith("$")
        if self.mode == "full" or anchored:
            return regex.fullmatch(value) is not None
        return regex.search(value) is not None


# --------------------------------------------------------------------------- query input


class Node:
    __slots__ = ("value", "children")

    def __init__(self):
        self.value = None
        self.children = {}


class BadValue:
    """A query-protocol value that could not be read as its shape's type."""

    def __init__(self, type_name, length):
        self.type_name = type_name
        self.length = length


def form_tree(pairs):
    root = Node()
    for key, value in pairs:
        node = root
        for part in key.split("."):
            node = node.children.setdefault(part, Node())
        node.value = value
    return root


def _is_index(text):
    return text.isdigit()


def _upper_first(text):
    return text[:1].upper() + text[1:]


class QueryReader:
    """Turns a query-protocol form back into input parameters, guided by the shapes.

    Accepts both the flattened and the wrapped (``.member.N``) list spelling and both
    botocore's and Smithy's names, so that what any SDK sends is read back."""

    def __init__(self, protocol):
        self.ec2 = protocol == "ec2"

    def member_names(self, name, shape):
        ser = shape.serialization
        names = []
        if self.ec2:
            if ser.get("queryName"):
                names.append(ser["queryName"])
            if ser.get("name"):
                names.append(_upper_first(ser["name"]))
            names += [name, _upper_first(name)]
        else:
            if ser.get("name"):
                names.append(ser["name"])
            names.append(name)
            if (
                shape.type_name == "list"
                and shape.serialization.get("flattened")
                and shape.member.serialization.get("name")
            ):
                names.append(shape.member.serialization["name"])  # botocore's flattened
        return names

    @staticmethod
    def child(node, names, taken=()):
        """The child spelled as one of names; else one spelled so up to case, unless
        that spelling is exactly another member's."""
        for name in names:
            if name in node.children:
                return node.children[name]
        lowered = {name.lower() for name in names}
        for key, child in node.children.items():
            if key.lower() in lowered and key not in taken:
                return child
        return None

    def read(self, node, shape):
        kind = shape.type_name
        if kind == "structure":
            if not node.children:
                if node.value in (None, ""):
                    return {}
                return BadValue("structure", len(node.value))
            spellings = {n: self.member_names(n, m) for n, m in shape.members.items()}
            taken = {spelling for names in spellings.values() for spelling in names}
            out = {}
            for name, member in shape.members.items():
                child = self.child(node, spellings[name], taken - set(spellings[name]))
                if child is not None:
                    out[name] = self.read(child, member)
            return out
        if kind == "list":
            items = self.indexed(node)
            if items is None:
                return BadValue("list", len(node.value or ""))
            return [self.read(item, shape.member) for item in items]
        if kind == "map":
            entries = self.indexed(node, wrappers=("entry",))
            if entries is None:
                return BadValue("map", len(node.value or ""))
            key_names = [shape.key.serialization.get("name", "key"), "key"]
            value_names = [shape.value.serialization.get("name", "value"), "value"]
            out = {}
            for entry in entries:
                key_node = self.child(entry, key_names)
                value_node = self.child(entry, value_names)
                key = self.read(key_node, shape.key) if key_node else None
                if not isinstance(key, str):
                    continue
                out[key] = self.read(value_node, shape.value) if value_node else None
            return out
        return self.scalar(node, shape)

    @staticmethod
    def indexed(node, wrappers=None):
        """Children N of ``prefix.N`` or ``prefix.<wrapper>.N``, in index order."""
        if not node.children:
            return [] if node.value in (None, "") else None
        found = []
        for key, child in node.children.items():
            if _is_index(key):
                found.append((int(key), child))
            elif wrappers is None or key in wrappers:
                found += [(int(k), c) for k, c in child.children.items() if _is_index(k)]
        return [child for _, child in sorted(found, key=lambda pair: pair[0])]

    @staticmethod
    def scalar(node, shape):
        kind = shape.type_name
        value = node.value
        if value is None:
            return BadValue(kind, 0)
        try:
            if kind in ("integer", "long"):
                return int(value)
            if kind in ("float", "double"):
                return float(value)
            if kind == "boolean":
                if value.lower() in ("true", "false"):
                    return value.lower() == "true"
                raise ValueError(value)
            if kind == "blob":
                return base64.b64decode(value, validate=True)
        except (ValueError, binascii.Error):
            return BadValue(kind, len(value))
        return value  # string, timestamp


# --------------------------------------------------------------------------- validation


def _describe_length(value):
    return f"length {len(value)}"


class Validator:
    def __init__(self, patterns):
        self.patterns = patterns

    def validate(self, shape, params, wire_json):
        self.wire_json = wire_json
        out = []
        self.walk(shape, params, "", out)
        return out

    @staticmethod
    def join(path, name):
        return f"{path}.{name}" if path else name

    def walk(self, shape, value, path, out):
        if value is None:
            return
        kind = shape.type_name
        meta = shape.metadata
        where = path or "input"
        if isinstance(value, BadValue):
            out.append({"member": where, "rule": "type", "expected": kind,
                        "length": value.length})
            return
        if kind == "structure":
            if getattr(shape, "is_document_type", False):
                return
            if not isinstance(value, dict):
                out.append({"member": where, "rule": "type", "expected": "structure"})
                return
            for name in shape.required_members:
                if value.get(name) is None:
                    out.append({"member": self.join(path, name), "rule": "required"})
            if meta.get("union"):
                present = [k for k, v in value.items() if v is not None and k in shape.members]
                if len(present) != 1:
                    out.append({"member": where, "rule": "union", "present": len(present)})
            for name, member_value in value.items():
                member = shape.members.get(name)
                if member is not None:
                    self.walk(member, member_value, self.join(path, name), out)
            return
        if kind == "list":
            if not isinstance(value, list):
                out.append({"member": where, "rule": "type", "expected": "list"})
                return
            self.size(meta, len(value), where, out)
            for index, item in enumerate(value):
                self.walk(shape.member, item, f"{path}[{index}]", out)
            return
        if kind == "map":
            if not isinstance(value, dict):
                out.append({"member": where, "rule": "type", "expected": "map"})
                return
            self.size(meta, len(value), where, out)
            for index, (key, item) in enumerate(value.items()):
                self.walk(shape.key, key, f"{path}{{key {index}}}", out)
                self.walk(shape.value, item, f"{path}{{value {index}}}", out)
            return
        if kind == "string":
            if not isinstance(value, str):
                out.append({"member": where, "rule": "type", "expected": "string"})
                return
            self.length(meta, len(value), where, out)
            enum = meta.get("enum")
            if enum and value not in enum:
                violation = {"member": where, "rule": "enum", "length": len(value)}
                if len(enum) <= MAX_ENUM_SHOWN:
                    violation["allowed"] = list(enum)
                else:
                    violation["allowed_count"] = len(enum)
                out.append(violation)
            pattern = meta.get("pattern")
            if pattern is not None and self.patterns.check(pattern, value) is False:
                out.append({"member": where, "rule": "pattern", "pattern": pattern,
                            "length": len(value)})
            return
        if kind in ("integer", "long", "float", "double"):
            integral = kind in ("integer", "long")
            ok = isinstance(value, int) if integral else isinstance(value, (int, float))
            if isinstance(value, bool) or not ok:
                out.append({"member": where, "rule": "type", "expected": kind})
                return
            if not integral and not math.isfinite(value):
                return
            if "min" in meta and value < meta["min"]:
                out.append({"member": where, "rule": "min-value", "limit": meta["min"],
                            "value": value})
            if "max" in meta and value > meta["max"]:
                out.append({"member": where, "rule": "max-value", "limit": meta["max"],
                            "value": value})
            return
        if kind == "boolean":
            if not isinstance(value, bool):
                out.append({"member": where, "rule": "type", "expected": "boolean"})
            return
        if kind == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                out.append({"member": where, "rule": "type", "expected": "timestamp"})
            return
        if kind == "blob":
            if self.wire_json:
                if not isinstance(value, str):
                    out.append({"member": where, "rule": "type", "expected": "blob"})
                    return
                try:
                    value = base64.b64decode(value, validate=True)
                except (ValueError, binascii.Error):
                    out.append({"member": where, "rule": "type", "expected": "blob",
                                "length": len(value)})
                    return
            if isinstance(value, (bytes, bytearray)):
                self.length(meta, len(value), where, out)
            return

    @staticmethod
    def length(meta, length, where, out):
        if "min" in meta and length < meta["min"]:
            out.append({"member": where, "rule": "min-length", "limit": meta["min"],
                        "length": length})
        if "max" in meta and length > meta["max"]:
            out.append({"member": where, "rule": "max-length", "limit": meta["max"],
                        "length": length})

    @staticmethod
    def size(meta, count, where, out):
        if "min" in meta and count < meta["min"]:
            out.append({"member": where, "rule": "min-items", "limit": meta["min"],
                        "items": count})
        if "max" in meta and count > meta["max"]:
            out.append({"member": where, "rule": "max-items", "limit": meta["max"],
                        "items": count})


def describe(violation):
    """One violation in the services' wording, with the value's length, never the value."""
    rule = violation["rule"]
    member = violation["member"]
    length = violation.get("length")
    value = f"Value with length {length}" if length is not None else "Value"
    if rule == "required":
        return f"Value null at '{member}' failed to satisfy constraint: Member must not be null"
    if rule == "min-length":
        what = f"have length greater than or equal to {violation['limit']}"
    elif rule == "max-length":
        what = f"have length less than or equal to {violation['limit']}"
    elif rule == "min-items":
        value = f"Value with {violation['items']} items"
        what = f"have length greater than or equal to {violation['limit']}"
    elif rule == "max-items":
        value = f"Value with {violation['items']} items"
        what = f"have length less than or equal to {violation['limit']}"
    elif rule == "min-value":
        value = f"Value '{violation['value']}'"
        what = f"have value greater than or equal to {violation['limit']}"
    elif rule == "max-value":
        value = f"Value '{violation['value']}'"
        what = f"have value less than or equal to {violation['limit']}"
    elif rule == "enum":
        if "allowed" in violation:
            what = f"satisfy enum value set: [{', '.join(violation['allowed'])}]"
        else:
            what = f"satisfy enum value set ({violation['allowed_count']} values)"
    elif rule == "pattern":
        what = f"satisfy regular expression pattern: {violation['pattern']}"
    elif rule == "union":
        what = f"have exactly one member set (found {violation['present']})"
    else:
        what = f"be of type {violation.get('expected')}"
    return f"{value} at '{member}' failed to satisfy constraint: Member must {what}"


def message_for(violations):
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(map(describe, violations))


# --------------------------------------------------------------------------- middleware


def read_body(environ):
    """The request body; wsgi.input is replaced by a fresh stream of the same bytes."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    chunks = []
    if length:
        remaining = int(length)
        while remaining > 0:
            chunk = stream.read(remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    elif environ.get("wsgi.input_terminated"):
        chunks.append(stream.read())
    body = b"".join(chunks)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def credential_scope_service(environ):
    match = CREDENTIAL_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
    credential = match.group(1) if match else None
    if credential is None:
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        credential = query.get("X-Amz-Credential")
    if not credential:
        return None
    parts = credential.split("/")
    return parts[3].lower() if len(parts) == 5 else None


class ValidatingMiddleware:
    def __init__(self, app, models, validator, log_path):
        self.app = app
        self.models = models
        self.validator = validator
        self.log_path = log_path
        self.log_lock = threading.Lock()

    def __call__(self, environ, start_response):
        try:
            found = self.identify(environ)
        except Exception:  # noqa: BLE001 - never take moto down with the validator
            found = None
            self.report_internal_error(environ, None, None)
        if found is None:
            return self.app(environ, start_response)
        model, operation, protocol, params = found
        try:
            violations = []
            if operation.input_shape is not None:
                violations = self.validator.validate(
                    operation.input_shape, params, protocol == "json"
                )
        except Exception:  # noqa: BLE001
            self.report_internal_error(environ, model, operation)
            return self.app(environ, start_response)
        if not violations:
            return self.app(environ, start_response)
        expected = environ.get(EXPECT_HEADER, "").strip().lower() == "violation"
        self.write_log(
            self.log_path + ".expected" if expected else self.log_path,
            {
                "service": model.service_name,
                "operation": operation.name,
                "violations": violations,
                "path": environ.get("PATH_INFO", ""),
            },
        )
        return self.reject(model, protocol, violations, start_response)

    # -- identification

    def identify(self, environ):
        """(model, operation model, protocol, params) of a request we can validate."""
        target = environ.get("HTTP_X_AMZ_TARGET")
        scope = credential_scope_service(environ)
        if target:
            return self.identify_json(environ, target, scope)
        if scope and scope in self.models.by_signing:
            return self.identify_query(environ, scope)
        return None

    def identify_json(self, environ, target, scope):
        if "." not in target:
            return None
        content_type = environ.get("CONTENT_TYPE", "").lower()
        if "cbor" in content_type:
            return None
        prefix, operation_name = target.rsplit(".", 1)
        names = self.models.by_target.get(prefix, [])
        chosen = []
        for name in names:
            meta = self.models.metadata[name]
            protocols = set(meta.get("protocols") or []) | {meta.get("protocol")}
            if "json" not in protocols:
                continue
            model = self.models.get(name)
            if operation_name in model.operation_names:
                chosen.append(model)
        if len(chosen) > 1 and scope:
            chosen = [m for m in chosen if scope in (m.signing_name, m.endpoint_prefix)]
        if len(chosen) != 1:
            return None
        model = chosen[0]
        body = read_body(environ)
        try:
            params = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, ValueError):
            return None  # moto answers what it makes of it
        if not isinstance(params, dict):
            return None
        return model, model.operation_model(operation_name), "json", params

    def identify_query(self, environ, scope):
        pairs = []
        method = environ.get("REQUEST_METHOD", "GET").upper()
        content_type = environ.get("CONTENT_TYPE", "").lower()
        if method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
            try:
                pairs = parse_qsl(read_body(environ).decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                return None
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if not any(key == "Action" for key, _ in pairs):
            pairs = query + pairs
        fields = dict(pairs)
        action = fields.get("Action")
        if not action:
            return None
        chosen = []
        for name in self.models.by_signing.get(scope, []):
            model = self.models.get(name)
            if model.protocol in QUERY_PROTOCOLS or "query" in (
                model.metadata.get("protocols") or []
            ):
                if action in model.operation_names:
                    chosen.append(model)
        if len(chosen) > 1 and fields.get("Version"):
            chosen = [m for m in chosen if m.api_version == fields["Version"]]
        if len(chosen) != 1:
            return None
        model = chosen[0]
        protocol = "ec2" if model.protocol == "ec2" else "query"
        operation = model.operation_model(action)
        params = {}
        if operation.input_shape is not None:
            tree = form_tree(
                (k, v) for k, v in pairs
                if k not in QUERY_ENVELOPE and not k.startswith("X-Amz-")
            )
            params = QueryReader(protocol).read(tree, operation.input_shape)
        return model, operation, protocol, params

    # -- answers

    def reject(self, model, protocol, violations, start_response):
        message = message_for(violations)
        request_id = str(uuid.uuid4())
        if protocol == "json":
            body = json.dumps({"__type": "ValidationException", "message": message})
            json_version = model.metadata.get("jsonVersion", "1.1")
            headers = [
                ("Content-Type", f"application/x-amz-json-{json_version}"),
                ("x-amzn-ErrorType", "ValidationException"),
                ("x-amzn-RequestId", request_id),
            ]
        elif protocol == "ec2":
            only_missing = all(v["rule"] == "required" for v in violations)
            code = "MissingParameter" if only_missing else "InvalidParameterValue"
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Response><Errors><Error><Code>{code}</Code>"
                f"<Message>{xml_escape(message)}</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>"
            )
            headers = [("Content-Type", "text/xml;charset=UTF-8")]
        else:
            namespace = model.metadata.get("xmlNamespace") or (
                f"https://{model.endpoint_prefix}.amazonaws.com/doc/{model.api_version}/"
            )
            body = (
                f'<ErrorResponse xmlns="{xml_escape(namespace)}">'
                "<Error><Type>Sender</Type><Code>ValidationError</Code>"
                f"<Message>{xml_escape(message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            )
            headers = [("Content-Type", "text/xml")]
        data = body.encode("utf-8")
        headers += [("Content-Length", str(len(data))), ("x-amz-request-id", request_id)]
        start_response("400 Bad Request", headers)
        return [data]

    def write_log(self, path, record):
        line = json.dumps(record, sort_keys=False) + "\n"
        with self.log_lock:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()

    def report_internal_error(self, environ, model, operation):
        detail = traceback.format_exc()
        log(f"validator error, request passed to moto unvalidated:\n{detail}")
        self.write_log(
            self.log_path,
            {
                "service": model.service_name if model else None,
                "operation": operation.name if operation else None,
                "violations": [],
                "path": environ.get("PATH_INFO", ""),
                "validator_error": detail.strip().splitlines()[-1],
            },
        )


# --------------------------------------------------------------------------- main


def _shut_down(_signum, _frame):
    # werkzeug's serve_forever() leaves cleanly (closing the socket) on KeyboardInterrupt.
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=0)
    parser.add_argument("--violations-log", required=True,
                        help="JSON lines of rejected requests (append mode)")
    parser.add_argument("--pattern-match", choices=("full", "search-unless-anchored"),
                        default="full",
                        help="full: a pattern must match the whole value, as the services "
                        "check it (default); search-unless-anchored: re.search unless "
                        "the pattern starts with ^ and ends with $")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _shut_down)
    signal.signal(signal.SIGINT, _shut_down)

    models = Models()
    main_app = DomainDispatcherApplication(create_backend_app)
    main_app.debug = True  # as moto.server.main does
    app = ValidatingMiddleware(
        main_app, models, Validator(Patterns(args.pattern_match)), args.violations_log
    )
    server = make_server(args.host, args.port, app, threaded=True,
                         request_handler=MotoRequestHandler)
    port = server.server_address[1]
    # moto builds URLs to itself from MOTO_PORT; moto_server sets it when unset.
    os.environ.setdefault("MOTO_PORT", str(port))
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"MOTO_URL=http://{host}:{port}", flush=True)
    server.log_startup()  # the " * Running on ..." lines run_simple writes to stderr
    server.serve_forever()  # returns on SIGTERM/SIGINT, socket closed


if __name__ == "__main__":
    main()
