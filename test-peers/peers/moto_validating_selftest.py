"""Self-test of moto_validating_launch.py, with boto3, no cargo.

Starts the launcher on port 0 as a subprocess (with MOTO_IAM_LOAD_MANAGED_POLICIES=true),
sends good and bad requests with boto3 (client-side parameter validation off, so that the
bad ones reach the server) and checks that the bad ones are answered as the real services
answer them and logged, the good ones reach moto, and the logs hold what they should.
Stops the launcher with SIGTERM by PID. Exits non-zero if any check fails.

    .peers/moto/bin/python test-peers/peers/moto_validating_selftest.py [--keep-logs DIR]

Checked against moto 5.2.5, boto3/botocore 1.44.5.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
import botocore.config
import botocore.session
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "moto_validating_launch.py")
STORE = "d-1234567890"  # matches the model's pattern d-[0-9a-f]{10}
FAILURES = []


def check(condition, what):
    print(("ok    " if condition else "FAIL  ") + what, flush=True)
    if not condition:
        FAILURES.append(what)
    return condition


def error_of(call, *args, **kwargs):
    """(code, message, http status) of a ClientError, or None if the call succeeded."""
    try:
        call(*args, **kwargs)
    except ClientError as error:
        return (
            error.response["Error"].get("Code"),
            error.response["Error"].get("Message", ""),
            error.response["ResponseMetadata"].get("HTTPStatusCode"),
        )
    return None


def succeeds(what, call, *args, **kwargs):
    try:
        result = call(*args, **kwargs)
    except ClientError as error:
        check(False, f"{what} (got {error})")
        return None
    check(True, what)
    return result


def rejected(what, code, call, *args, **kwargs):
    got = error_of(call, *args, **kwargs)
    check(got is not None and got[0] == code and got[2] == 400,
          f"{what} -> 400 {code} (got {got})")
    return got


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def start(log_path, out_dir):
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    stderr = open(os.path.join(out_dir, "launcher.stderr"), "w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, LAUNCHER, "--host", "127.0.0.1", "--port", "0",
         "--violations-log", log_path],
        stdout=subprocess.PIPE, stderr=stderr, env=env, text=True,
    )
    started = time.monotonic()
    line = process.stdout.readline().strip()
    if not line.startswith("MOTO_URL="):
        process.kill()
        sys.exit(f"launcher did not announce its URL (got {line!r}); see {stderr.name}")
    print(f"launcher pid {process.pid}, {line} after {time.monotonic() - started:.1f}s",
          flush=True)
    return process, line.split("=", 1)[1]


def moto_control(url, path, body):
    request = urllib.request.Request(url + path, data=body.encode(), method="POST",
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def run_checks(url, log_path):
    expected_path = log_path + ".expected"
    config = botocore.config.Config(parameter_validation=False,
                                    retries={"max_attempts": 1})

    def client(service, key="testing", secret="testing"):
        return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            config=config)

    models = botocore.session.get_session()

    with urllib.request.urlopen(url + "/moto-api/", timeout=30) as response:
        check(response.status == 200, "GET /moto-api/ passes through (200)")

    # (a) Identity Store -------------------------------------------------------------
    sso = client("sso-admin")
    ids = client("identitystore")
    instances = succeeds("sso-admin ListInstances", sso.list_instances)
    moto_store = (instances or {}).get("Instances", [{}])[0].get("IdentityStoreId")
    check(bool(moto_store), f"moto's Identity Center instance has an IdentityStoreId ({moto_store})")
    # moto draws it from [a-z0-9]{10}, the service from [0-9a-f]{10}: use a valid one.

    before = len(lines(log_path))
    got = rejected("identitystore CreateGroup Description=''", "ValidationException",
                   ids.create_group, IdentityStoreId=STORE, DisplayName="eng",
                   Description="")
    check(got is not None and "Description" in got[1] and "length 0" in got[1],
          f"message names the member and the length ({got and got[1]})")
    logged = lines(log_path)[before:]
    check(len(logged) == 1 and logged[0]["service"] == "identitystore"
          and logged[0]["operation"] == "CreateGroup"
          and logged[0]["violations"][0]["member"] == "Description"
          and logged[0]["violations"][0]["rule"] == "min-length",
          f"one line logged for it ({logged})")
    group = succeeds("identitystore CreateGroup Description='x'", ids.create_group,
                     IdentityStoreId=STORE, DisplayName="eng", Description="x")
    if group:
        described = succeeds("identitystore DescribeGroup", ids.describe_group,
                             IdentityStoreId=STORE, GroupId=group["GroupId"])
        check(bool(described) and described.get("Description") == "x",
              "moto stored the group")
    succeeds("identitystore CreateUser (valid)", ids.create_user,
             IdentityStoreId=STORE, UserName="ada", DisplayName="Ada Lovelace",
             Name={"GivenName": "Ada", "FamilyName": "Lovelace"},
             Emails=[{"Value": "ada@example.com", "Type": "work", "Primary": True}])
    limit = (models.get_service_model("identitystore").operation_model("CreateUser")
             .input_shape.members["DisplayName"].metadata["max"])
    check(limit == 1024, f"model: CreateUser DisplayName max length is {limit}")
    secret_value = "Z" * (limit + 1)
    before = len(lines(log_path))
    got = rejected(f"identitystore CreateUser DisplayName of {limit + 1} chars",
                   "ValidationException", ids.create_user, IdentityStoreId=STORE,
                   UserName="bob", DisplayName=secret_value,
                   Name={"GivenName": "B", "FamilyName": "C"})
    check(got is not None and f"length {limit + 1}" in got[1] and "ZZZZZZZZ" not in got[1],
          "message has the length, not the value")
    raw = open(log_path, encoding="utf-8").read()
    check(len(lines(log_path)) == before + 1 and "ZZZZZZZZ" not in raw,
          "logged once, without the value")
    rejected("identitystore ListUsers MaxResults=0 (min 1)", "ValidationException",
             ids.list_users, IdentityStoreId=STORE, MaxResults=0)
    rejected("identitystore CreateGroup without IdentityStoreId (required)",
             "ValidationException", ids.create_group, DisplayName="eng")

    # (b) IAM ------------------------------------------------------------------------
    iam = client("iam")
    succeeds("iam CreateUser UserName='alice'", iam.create_user, UserName="alice")
    before = len(lines(log_path))
    got = rejected("iam CreateUser UserName='a b'", "ValidationError", iam.create_user,
                   UserName="a b")
    check(got is not None and "pattern" in got[1], f"message names the pattern ({got and got[1]})")
    check(len(lines(log_path)) == before + 1, "logged")
    check(error_of(iam.get_user, UserName="a b") is not None, "moto never saw 'a b'")
    succeeds("iam CreateUser with Tags (query list of structures)", iam.create_user,
             UserName="tagged", Tags=[{"Key": "team", "Value": "eng"},
                                      {"Key": "cost", "Value": "42"}])
    rejected("iam CreateUser Tags[1].Key of 129 chars (max 128)", "ValidationError",
             iam.create_user, UserName="tagged2",
             Tags=[{"Key": "ok", "Value": "v"}, {"Key": "k" * 129, "Value": "v"}])
    pages = iam.get_paginator("list_policies").paginate(
        Scope="AWS", PaginationConfig={"PageSize": 100})
    try:
        counts = [len(page["Policies"]) for page in pages]
    except ClientError as error:
        counts = []
        check(False, f"iam ListPolicies Scope=AWS pages ({error})")
    check(len(counts) > 1 and sum(counts) > 100,
          f"iam ListPolicies Scope=AWS is paged, managed policies loaded "
          f"({len(counts)} pages, {sum(counts)} policies)")

    # (c) EC2, SSM, STS --------------------------------------------------------------
    ec2 = client("ec2")
    succeeds("ec2 DescribeInstances Filters=[tag:Name=a]", ec2.describe_instances,
             Filters=[{"Name": "tag:Name", "Values": ["a"]}])
    got = rejected("ec2 CreateTags without Tags (required)", "MissingParameter",
                   ec2.create_tags, Resources=["i-0123456789abcdef0"])
    ssm = client("ssm")
    succeeds("ssm PutParameter", ssm.put_parameter, Name="/selftest/p", Value="v1",
             Type="String")
    value = succeeds("ssm GetParameter", ssm.get_parameter, Name="/selftest/p")
    check(bool(value) and value["Parameter"]["Value"] == "v1", "ssm value read back")
    rejected("ssm GetParameter Name=''", "ValidationException", ssm.get_parameter, Name="")
    rejected("ssm PutParameter Type='Bogus' (enum)", "ValidationException",
             ssm.put_parameter, Name="/selftest/q", Value="v", Type="Bogus")
    sts = client("sts")
    succeeds("sts GetCallerIdentity", sts.get_caller_identity)

    # (d) x-request-validator-expect: violation --------------------------------------
    def expect_violation(request, **_):
        request.headers["x-request-validator-expect"] = "violation"

    for service_client in (ids, iam):
        service_client.meta.events.register("before-sign.*.*", expect_violation)
    main_before, expected_before = len(lines(log_path)), len(lines(expected_path))
    rejected("identitystore CreateGroup Description='' with the expect header",
             "ValidationException", ids.create_group, IdentityStoreId=STORE,
             DisplayName="eng", Description="")
    rejected("iam ListPolicies Scope='AWSManaged' (enum) with the expect header",
             "ValidationError", iam.list_policies, Scope="AWSManaged")
    expected = lines(expected_path)[expected_before:]
    check(len(lines(log_path)) == main_before, "nothing added to the violations log")
    check([(r["service"], r["operation"]) for r in expected]
          == [("identitystore", "CreateGroup"), ("iam", "ListPolicies")],
          f"both logged to {os.path.basename(expected_path)}")
    succeeds("a valid request with the expect header still reaches moto",
             ids.list_groups, IdentityStoreId=STORE)
    for service_client in (ids, iam):
        service_client.meta.events.unregister("before-sign.*.*", expect_violation)

    # The body moto reads is the one that was signed: SigV4 checked under enforcement.
    key = succeeds("iam CreateAccessKey", iam.create_access_key, UserName="alice")
    if key:
        policy = ('{"Version":"2012-10-17","Statement":'
                  '[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
        succeeds("iam PutUserPolicy", iam.put_user_policy, UserName="alice",
                 PolicyName="all", PolicyDocument=policy)
        access = key["AccessKey"]
        check(moto_control(url, "/moto-api/reset-auth", "0") == 200,
              "IAM enforcement on")
        try:
            signed_iam = client("iam", access["AccessKeyId"], access["SecretAccessKey"])
            signed_ssm = client("ssm", access["AccessKeyId"], access["SecretAccessKey"])
            succeeds("signed iam ListUsers (form body) under enforcement",
                     signed_iam.list_users)
            succeeds("signed ssm GetParameter (JSON body) under enforcement",
                     signed_ssm.get_parameter, Name="/selftest/p")
            wrong = client("ssm", access["AccessKeyId"], "wrong-secret")
            check(error_of(wrong.get_parameter, Name="/selftest/p") is not None,
                  "a wrong signature is still refused (the check is live)")
        finally:
            moto_control(url, "/moto-api/reset-auth", "inf")

    main_lines = lines(log_path)
    check(all("validator_error" not in r for r in main_lines + lines(expected_path)),
          "no validator errors logged")
    print(f"violations log: {len(main_lines)} lines; expected log: "
          f"{len(lines(expected_path))} lines", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep-logs", help="copy the logs and launcher stderr here")
    args = parser.parse_args()
    out_dir = tempfile.mkdtemp(prefix="moto-validating-selftest-")
    log_path = os.path.join(out_dir, "violations.jsonl")
    process, url = start(log_path, out_dir)
    try:
        run_checks(url, log_path)
    except Exception as error:  # noqa: BLE001
        check(False, f"self-test crashed: {error!r}")
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            code = process.wait(timeout=15)
            check(code == 0, f"launcher stopped by SIGTERM, exit status {code}")
        except subprocess.TimeoutExpired:
            process.kill()
            check(False, "launcher did not stop within 15s of SIGTERM")
    if args.keep_logs:
        os.makedirs(args.keep_logs, exist_ok=True)
        for name in os.listdir(out_dir):
            shutil.copy(os.path.join(out_dir, name), args.keep_logs)
    shutil.rmtree(out_dir, ignore_errors=True)
    if FAILURES:
        print(f"\n{len(FAILURES)} check(s) failed:", *FAILURES, sep="\n  ")
        sys.exit(1)
    print("\nall checks passed")


if __name__ == "__main__":
    main()
