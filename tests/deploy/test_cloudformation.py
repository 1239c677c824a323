"""deploy/tastebook.yaml: cfn-lint passes it, its table is the one schema.py
declares, its Redis user has deploy/redis-acl.txt's ACL, and its IAM policies grant exactly
the DynamoDB actions the code calls.

The actions come from reading restaurants/ (not from a list kept here): every
``call("Operation", ...)``, the DynamoDB client methods called directly in
restaurants/dynamo/ (``probe_table``'s DescribeTable), the Put/Update/Delete/
ConditionCheck parts of transactions (IAM authorizes those, not
TransactWriteItems), and DynamoDB Streams client methods anywhere. Who needs
which action is worked out by following names from the site's code and from
each management command, so a new ``call("X")`` fails here until a policy
allows it, and a granted action the code never calls fails too.
"""

import ast
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name
from cfnlint.api import ManualArgs, lint_file
from cfnlint.decode import cfn_yaml

from restaurants.dynamo.schema import table_definition
from tests.faults.conftest import documented_acl

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "tastebook.yaml"
RESTAURANTS = ROOT / "restaurants"
COMMANDS = RESTAURANTS / "management" / "commands"

# Commands the site runs itself, with the site's role: cache maintenance and the
# stream consumer. Their actions belong to the site's policy.
SITE_COMMANDS = {"warm_cache", "flush_cache", "rebuild_leaderboard", "follow_stream"}
# Commands people run against the table: their extra actions go to the operator policy.
OPERATOR_COMMANDS = {"create_table", "upgrade_table", "load_items", "import_table", "export_table"}
# Called by create_table and upgrade_table, granted to nobody: the stack owns the
# table's definition (both commands find nothing to do on the stack's table, and a
# change made outside CloudFormation would drift from it).
STACK_OWNED = {"dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive"}
# The follow_stream branch (DescribeTable for LatestStreamArn, then these) has not
# landed here yet; once it has, the code supplies them and this set can go.
PENDING_STREAM_ACTIONS = {"dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"}

# TransactWriteItems/TransactGetItems are not IAM actions: each part is authorized
# as the single-item action it stands for.
TRANSACTION_PARTS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
NOT_IAM_ACTIONS = {"TransactWriteItems", "TransactGetItems"}


@functools.cache
def _client_methods(service: str) -> dict[str, str]:
    """boto3 method name -> operation name, for one service's API (boto3's own naming)."""
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(operation): operation for operation in model.operation_names}


# -- what the code calls ---------------------------------------------------------------


@dataclass
class Unit:
    """A top-level function or class of restaurants/ (or a module's own top-level code)."""

    module: Path
    name: str
    actions: set[str] = field(default_factory=set)
    names_used: set[str] = field(default_factory=set)
    unreadable: list[str] = field(default_factory=list)


def _scan_unit(unit: Unit, nodes: list[ast.AST]) -> None:
    in_dynamo = unit.module.is_relative_to(RESTAURANTS / "dynamo")
    for node in (inner for top in nodes for inner in ast.walk(top)):
        if isinstance(node, ast.Name):
            unit.names_used.add(node.id)
        elif isinstance(node, ast.Attribute):
            unit.names_used.add(node.attr)
        if isinstance(node, ast.Call):
            function = node.func
            name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)
            if name == "call" and not (unit.name == "call" and unit.module.name == "client.py"):
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    unit.actions.add(first.value)
                else:
                    unit.unreadable.append(f"{unit.module.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(function, ast.Attribute) and in_dynamo and name in _client_methods("dynamodb"):
                unit.actions.add(_client_methods("dynamodb")[name])
            elif isinstance(function, ast.Attribute) and name in _client_methods("dynamodbstreams"):
                unit.actions.add(_client_methods("dynamodbstreams")[name])
        if in_dynamo and isinstance(node, ast.Dict):
            for key in node.keys:
                if isinstance(key, ast.Constant) and key.value in TRANSACTION_PARTS:
                    unit.actions.add(TRANSACTION_PARTS[key.value])
    unit.actions = {f"dynamodb:{action}" for action in unit.actions - NOT_IAM_ACTIONS}


@functools.cache
def _units() -> tuple[Unit, ...]:
    units = []
    for path in sorted(RESTAURANTS.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        module_code = Unit(path, f"<{path.stem}>")
        _scan_unit(module_code, [node for node in tree.body if not isinstance(node, definitions)])
        units.append(module_code)
        for node in tree.body:
            if isinstance(node, definitions):
                unit = Unit(path, node.name)
                _scan_unit(unit, [node])
                units.append(unit)
    return tuple(units)


def _actions_reached_from(roots: list[Unit]) -> set[str]:
    """Every action of the roots and of whatever they name, transitively. Names
    are matched by spelling alone, so this can only over-reach, never miss."""
    by_name: dict[str, list[Unit]] = defaultdict(list)
    for unit in _units():
        by_name[unit.name].append(unit)
    seen: set[int] = set()
    pending = list(roots)
    actions: set[str] = set()
    while pending:
        unit = pending.pop()
        if id(unit) in seen:
            continue
        seen.add(id(unit))
        actions |= unit.actions
        pending.extend(other for name in unit.names_used for other in by_name.get(name, ()))
    return actions


def _command_units(commands: set[str]) -> list[Unit]:
    return [unit for unit in _units() if unit.module.parent == COMMANDS and unit.module.stem in commands]


@functools.cache
def needed_actions() -> tuple[frozenset[str], frozenset[str]]:
    """(the site's actions, the operator's extra actions), from the code."""
    site_roots = [
        unit
        for unit in _units()
        if not unit.module.is_relative_to(RESTAURANTS / "dynamo")
        and not unit.module.is_relative_to(RESTAURANTS / "management")
    ]
    site = _actions_reached_from(site_roots + _command_units(SITE_COMMANDS))
    everything = set().union(*(unit.actions for unit in _units()))
    operator = _actions_reached_from(_command_units(OPERATOR_COMMANDS))
    # Code nothing in restaurants/ reaches (dead, or only used by devtools) counts as the site's.
    site |= everything - operator - site
    return frozenset(site), frozenset(operator - site - STACK_OWNED)


# -- what the template grants ------------------------------------------------------------


@functools.cache
def template() -> dict:
    return cfn_yaml.load(str(TEMPLATE))


def _resource_name(value) -> str:
    """A Resource entry as a short name: table, table/index/*, RedisUserSecret..."""
    if isinstance(value, dict) and "Fn::GetAtt" in value and value["Fn::GetAtt"] == ["Table", "Arn"]:
        return "table"
    if (
        isinstance(value, dict)
        and isinstance(value.get("Fn::Sub"), str)
        and value["Fn::Sub"].startswith("${Table.Arn}")
    ):
        return "table" + value["Fn::Sub"].removeprefix("${Table.Arn}")
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    return repr(value)  # a literal ARN or "*": matches nothing expected


def granted(policy: str) -> dict[str, set[str]]:
    """action -> the resources the policy allows it on."""
    statements = template()["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"]
    grants: dict[str, set[str]] = defaultdict(set)
    for statement in statements:
        assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            grants[action] |= {_resource_name(resource) for resource in resources}
    return dict(grants)


def _expected_resources(action: str) -> set[str]:
    if action == "dynamodb:Query":
        return {"table", "table/index/*"}
    if (
        action in PENDING_STREAM_ACTIONS
        or action.removeprefix("dynamodb:") in _client_methods("dynamodbstreams").values()
    ):
        return {"table/stream/*"}
    return {"table"}


# -- the tests ---------------------------------------------------------------------------


def test_cfn_lint_finds_nothing_in_the_template_not_even_informational():
    matches = lint_file(TEMPLATE, config=ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1"]))
    assert [str(match) for match in matches] == []


def test_every_dynamodb_call_in_the_code_names_its_operation():
    unreadable = [place for unit in _units() for place in unit.unreadable]
    assert unreadable == [], "call(operation) with a computed operation: the policy test cannot see it"


def test_the_code_analysis_sees_the_calls_we_know_of():
    site, operator = needed_actions()
    # probe_table's direct describe_table, a transaction's parts, an operator-only Scan.
    assert {"dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"} <= site
    assert "dynamodb:TransactWriteItems" not in site
    assert {"dynamodb:Scan", "dynamodb:BatchWriteItem"} <= operator
    assert STACK_OWNED <= _actions_reached_from(_command_units(OPERATOR_COMMANDS))


def test_every_management_command_is_the_sites_or_an_operators():
    commands = {path.stem for path in COMMANDS.glob("*.py") if not path.stem.startswith("_")}
    assert commands - SITE_COMMANDS - OPERATOR_COMMANDS == set()


def test_the_site_policy_allows_exactly_the_dynamodb_actions_the_site_calls():
    site, _ = needed_actions()
    grants = granted("AppPolicy")
    dynamodb = {action for action in grants if action.startswith("dynamodb:")}
    assert dynamodb == site | PENDING_STREAM_ACTIONS
    assert not dynamodb & STACK_OWNED


def test_the_operator_policy_adds_exactly_what_the_operator_commands_call_beyond_the_site():
    _, operator = needed_actions()
    grants = granted("OperatorPolicy")
    assert set(grants) == operator
    assert not set(grants) & STACK_OWNED


@pytest.mark.parametrize("policy", ["AppPolicy", "OperatorPolicy"])
def test_each_dynamodb_action_is_allowed_on_this_table_and_only_where_it_is_used(policy):
    grants = granted(policy)
    wrong = {
        action: resources
        for action, resources in grants.items()
        if action.startswith("dynamodb:") and resources != _expected_resources(action)
    }
    assert wrong == {}


def test_the_site_may_read_its_redis_password_and_nothing_else_outside_dynamodb():
    others = {
        action: resources for action, resources in granted("AppPolicy").items() if not action.startswith("dynamodb:")
    }
    assert others == {"secretsmanager:GetSecretValue": {"RedisUserSecret"}}


def test_the_task_role_carries_the_site_policy_only():
    role = template()["Resources"]["AppTaskRole"]["Properties"]
    assert role["ManagedPolicyArns"] == [{"Ref": "AppPolicy"}]
    assert "Policies" not in role


def test_the_table_is_the_one_schema_py_declares():
    table = template()["Resources"]["Table"]["Properties"]
    declared = table_definition()

    def by_name(entries, key):
        return sorted(entries, key=lambda entry: entry[key])

    assert by_name(table["AttributeDefinitions"], "AttributeName") == by_name(
        declared["AttributeDefinitions"], "AttributeName"
    )
    assert table["KeySchema"] == declared["KeySchema"]
    assert by_name(table["GlobalSecondaryIndexes"], "IndexName") == by_name(
        declared["GlobalSecondaryIndexes"], "IndexName"
    )
    assert table["BillingMode"] == declared["BillingMode"] == "PAY_PER_REQUEST"


def test_the_table_is_protected_encrypted_and_streamed():
    resource = template()["Resources"]["Table"]
    table = resource["Properties"]
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    assert table["DeletionProtectionEnabled"] is True
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_the_redis_users_access_strings_are_the_acl_files():
    """CloudFormation cannot read deploy/redis-acl.txt, so the template keeps a
    copy of its rules for each mode: rule for rule, in the file's order."""
    access = template()["Resources"]["RedisUser"]["Properties"]["AccessString"]
    condition, cluster, single = access["Fn::If"]
    assert condition == "ClusterModeEnabled"
    assert cluster.split() == documented_acl(cluster=True)
    assert single.split() == documented_acl(cluster=False)


def test_redis_is_encrypted_multi_az_and_reached_only_by_the_sites_user():
    resources = template()["Resources"]
    redis = resources["Redis"]["Properties"]
    for setting in (
        "TransitEncryptionEnabled",
        "AtRestEncryptionEnabled",
        "MultiAZEnabled",
        "AutomaticFailoverEnabled",
    ):
        assert redis[setting] is True, setting
    assert redis["UserGroupIds"] == [{"Ref": "RedisUserGroup"}]
    users = [resources[ref["Ref"]]["Properties"] for ref in resources["RedisUserGroup"]["Properties"]["UserIds"]]
    assert {user["UserName"]: user["AccessString"] for user in users if user["UserName"] == "default"} == {
        "default": "off -@all"
    }
    [ingress] = resources["RedisSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert (ingress["FromPort"], ingress["ToPort"], ingress["SourceSecurityGroupId"]) == (
        6379,
        6379,
        {"Ref": "AppSecurityGroupId"},
    )


def test_cluster_mode_chooses_shards_or_a_node_count():
    redis = template()["Resources"]["Redis"]["Properties"]
    assert redis["NumNodeGroups"]["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert redis["ReplicasPerNodeGroup"]["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert redis["NumCacheClusters"]["Fn::If"][1] == {"Ref": "AWS::NoValue"}
    assert redis["CacheParameterGroupName"]["Fn::If"] == [
        "ClusterModeEnabled",
        "default.redis7.cluster.on",
        "default.redis7",
    ]


def test_the_outputs_give_every_setting_the_site_needs_to_reach_them():
    outputs = template()["Outputs"]
    described = {output["Description"].split(",")[0] for output in outputs.values()}
    assert {"DYNAMODB_TABLE", "AWS_REGION", "REDIS_CLUSTER", "SITE_URL"} <= described
    assert outputs["EnvRedisUrl"]["Value"]["Fn::Sub"][0].startswith("rediss://tastebook:<password>@")
