"""Translation of a parsed `$filter` tree into a parametrised SQLite WHERE clause.

Text attributes are compared through their folded shadow columns (so `Name eq 'ACME'` matches
`Acmé`), and `startswith` becomes an index-friendly range. SQL's three-valued logic gives CRM's
null semantics for free: `Name ne 'x'` and `not (Name eq 'x')` never match a null Name.
Anything CRM 2011 rejects (other functions, attribute-to-attribute comparison, wrong literal
types) is a 400 here.
"""

import uuid
from decimal import Decimal, InvalidOperation

from cdms_api import domains

from . import schema as s
from .errors import bad_request
from .filter_parser import Call, Compare, Literal, Logical, Member, Not
from .values import datetime_ms, fold, scale

SQL_OPS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
FLIPPED = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
FUNCTIONS = ("substringof", "startswith", "endswith")
TOP_CHAR = "\U0010ffff"


def compile_filter(entity, node):
    """(sql, params) for the WHERE clause of `node` over `entity`'s table."""
    params = []
    try:
        sql = _Compiler(entity, params).predicate(node)
    except RecursionError:
        raise bad_request("The $filter expression is nested too deeply.")
    return sql, params


def resolve(entity, path):
    """(column, kind, attribute) that a member path compares through; a 400 if not filterable."""
    attr = entity.attribute(path[0])
    if attr is None:
        raise bad_request(f"'{entity.name}' has no attribute '{path[0]}' (names are case-sensitive).")
    member = path[1:]
    if attr.type in s.TEXT_TYPES and not member:
        return attr.shadow, "string", attr
    if attr.type == s.LOOKUP and member == ("Id",):
        return attr.column, "guid", attr
    if attr.type == s.OPTIONSET and member == ("Value",):
        return attr.column, "int", attr
    if attr.type == s.MONEY and member == ("Value",):
        return attr.column, "decimal", attr
    if attr.type in (s.INT, s.BIGINT, s.BOOL, s.DECIMAL, s.DOUBLE, s.DATETIME, s.GUID) and not member:
        return attr.column, attr.type, attr
    raise bad_request(f"Cannot filter on '{'/'.join(path)}' of type {attr.type}.")


def convert(kind, attr, literal):
    """The SQL parameter for comparing a `kind` column with `literal`; a 400 on a type mismatch."""
    converter = CONVERTERS[kind].get(literal.type)
    if converter is None:
        raise bad_request(f"Operand types Edm.{kind} and {literal.type} are incompatible in $filter.")
    return converter(attr, literal.value)


def _decimal(attr, text):
    try:
        return scale(attr, Decimal(str(text)))
    except InvalidOperation:
        raise bad_request(f"Invalid number {text!r} in $filter.")


def _int(attr, value):
    if domains.int32_problem(value):
        raise bad_request(f"Integer literal {value} is out of range in $filter.")
    return value


def _datetime(attr, value):
    problem = domains.datetime_problem(value)
    if problem:
        raise bad_request(f"Datetime literal in $filter: {problem}.")
    return datetime_ms(value)


def _guid(attr, text):
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise bad_request(f"Invalid GUID literal guid'{text}' in $filter.")


CONVERTERS = {
    "string": {"string": lambda a, v: fold(v)},
    "int": {"int": _int},
    "bigint": {"int": lambda a, v: int(v)},
    "double": {"int": lambda a, v: float(v), "decimal": lambda a, v: float(v), "double": lambda a, v: float(v)},
    "bool": {"bool": lambda a, v: int(v)},
    "decimal": {"int": _decimal, "decimal": _decimal, "double": _decimal},
    "datetime": {"datetime": _datetime},
    "guid": {"guid": _guid},
}


def like_escape(text):
    """`text` with LIKE wildcards escaped by backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _chain(node, op):
    """The operands of a run of `op` (left-deep, as parsed), in order."""
    operands = []
    while isinstance(node, Logical) and node.op == op:
        operands.append(node.right)
        node = node.left
    operands.append(node)
    return [*_flatten(reversed(operands), op)]


def _flatten(nodes, op):
    for node in nodes:
        if isinstance(node, Logical) and node.op == op:
            yield from _chain(node, op)
        else:
            yield node


class _Compiler:
    def __init__(self, entity, params):
        self.entity = entity
        self.params = params

    def predicate(self, node):
        if isinstance(node, Logical):
            # A long `or` chain parses left-deep; SQLite's parser overflows on deep nesting,
            # so a chain of one operator is written flat.
            operands = [self.predicate(operand) for operand in _chain(node, node.op)]
            return "(" + f" {node.op.upper()} ".join(operands) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.predicate(node.operand)})"
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Member):
            return self.bare_member(node)
        if isinstance(node, Literal) and node.type == "bool":
            return "1" if node.value else "0"
        raise bad_request("$filter must be a boolean expression.")

    def bare_member(self, node):
        column, kind, _ = resolve(self.entity, node.path)
        if kind != "bool":
            raise bad_request(f"'{'/'.join(node.path)}' is not a boolean expression.")
        return f'"{column}" = 1'

    def compare(self, node):
        left, op, right = node.left, node.op, node.right
        for side in (left, right):
            if isinstance(side, Call) and side.name not in FUNCTIONS:
                raise bad_request(f"The function '{side.name}' is not supported in $filter.")
        if isinstance(left, Literal):
            left, op, right = right, FLIPPED[op], left
        if isinstance(left, Call) and isinstance(right, Literal) and right.type == "bool":
            return self.call_compared(left, op, right.value)
        if not (isinstance(left, Member) and isinstance(right, Literal)):
            raise bad_request("A comparison must be between an attribute and a literal in $filter.")
        column, kind, attr = resolve(self.entity, left.path)
        if right.type == "null":
            return self.null_compare(column, op)
        self.params.append(convert(kind, attr, right))
        return f'"{column}" {SQL_OPS[op]} ?'

    def null_compare(self, column, op):
        if op not in ("eq", "ne"):
            raise bad_request(f"Operator '{op}' cannot compare with null in $filter.")
        return f'"{column}" IS {"" if op == "eq" else "NOT "}NULL'

    def call_compared(self, call, op, value):
        if op not in ("eq", "ne"):
            raise bad_request(f"Operator '{op}' cannot compare a boolean function in $filter.")
        sql = self.call(call)
        return sql if (op == "eq") == value else f"(NOT {sql})"

    def call(self, node):
        if node.name not in FUNCTIONS:
            raise bad_request(f"The function '{node.name}' is not supported in $filter.")
        if len(node.args) != 2:
            raise bad_request(f"The function '{node.name}' takes two arguments.")
        member, literal = node.args[::-1] if node.name == "substringof" else node.args
        if not (isinstance(member, Member) and isinstance(literal, Literal) and literal.type == "string"):
            raise bad_request(f"'{node.name}' needs an attribute and a string literal.")
        column, kind, _ = resolve(self.entity, member.path)
        if kind != "string":
            raise bad_request(f"'{node.name}' needs a string attribute, not '{'/'.join(member.path)}'.")
        return self.text_match(node.name, column, fold(literal.value))

    def text_match(self, function, column, needle):
        if function == "startswith":
            self.params.extend([needle, needle + TOP_CHAR])
            return f'("{column}" >= ? AND "{column}" < ?)'
        pattern = "%" + like_escape(needle) + ("%" if function == "substringof" else "")
        self.params.append(pattern)
        return f"(\"{column}\" LIKE ? ESCAPE '\\')"
