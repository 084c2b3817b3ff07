/**
 * AST of an Azure ABAC condition (conditionVersion 2.0).
 *
 * The tree is position-free and normalised (canonical operator/source casing, GUIDs lower-case and dashed) so that
 * `parse(format(ast))` is deep-equal to `ast`; errors carry positions instead, and they are raised while parsing.
 */

export type AttributeSource = 'Resource' | 'Request' | 'Principal' | 'Environment';

export const ATTRIBUTE_SOURCES: readonly AttributeSource[] = ['Resource', 'Request', 'Principal', 'Environment'];

export type Quantifier = 'ForAnyOfAnyValues' | 'ForAllOfAnyValues' | 'ForAnyOfAllValues' | 'ForAllOfAllValues';

export const QUANTIFIERS: readonly Quantifier[] = [
  'ForAnyOfAnyValues',
  'ForAllOfAnyValues',
  'ForAnyOfAllValues',
  'ForAllOfAllValues',
];

export type OperatorName =
  | 'StringEquals'
  | 'StringEqualsIgnoreCase'
  | 'StringNotEquals'
  | 'StringNotEqualsIgnoreCase'
  | 'StringStartsWith'
  | 'StringStartsWithIgnoreCase'
  | 'StringNotStartsWith'
  | 'StringNotStartsWithIgnoreCase'
  | 'StringLike'
  | 'StringLikeIgnoreCase'
  | 'StringNotLike'
  | 'StringNotLikeIgnoreCase'
  | 'NumericEquals'
  | 'NumericNotEquals'
  | 'NumericGreaterThan'
  | 'NumericGreaterThanEquals'
  | 'NumericLessThan'
  | 'NumericLessThanEquals'
  | 'DateTimeEquals'
  | 'DateTimeNotEquals'
  | 'DateTimeGreaterThan'
  | 'DateTimeGreaterThanEquals'
  | 'DateTimeLessThan'
  | 'DateTimeLessThanEquals'
  | 'GuidEquals'
  | 'GuidNotEquals'
  | 'BoolEquals'
  | 'BoolNotEquals';

export interface AttributeRef {
  kind: 'attribute';
  source: AttributeSource;
  /** As written between the brackets (trimmed), e.g. `Microsoft.Storage/storageAccounts/blobServices/containers:name`. */
  name: string;
}

export interface StringLiteral {
  kind: 'string';
  value: string;
}
export interface NumberLiteral {
  kind: 'number';
  value: bigint;
}
export interface GuidLiteral {
  kind: 'guid';
  /** Lower-case, dashed form. */
  value: string;
}
export interface BoolLiteral {
  kind: 'bool';
  value: boolean;
}
export type Literal = StringLiteral | NumberLiteral | GuidLiteral | BoolLiteral;

export interface SetLiteral {
  kind: 'set';
  items: Literal[];
}

export type Operand = AttributeRef | Literal | SetLiteral;

export interface Operator {
  quantifier?: Quantifier;
  name: OperatorName;
}

export interface AndExpr {
  kind: 'and';
  /** Two or more. A parenthesised AND inside an AND stays nested, so printing round-trips. */
  operands: Expr[];
}
export interface OrExpr {
  kind: 'or';
  operands: Expr[];
}
export interface NotExpr {
  kind: 'not';
  operand: Expr;
}
export interface ActionMatchesExpr {
  kind: 'actionMatches';
  pattern: string;
}
export interface SubOperationMatchesExpr {
  kind: 'subOperationMatches';
  pattern: string;
}
export interface ExistsExpr {
  kind: 'exists';
  attribute: AttributeRef;
}
export interface CompareExpr {
  kind: 'compare';
  left: Operand;
  operator: Operator;
  right: Operand;
}

export type Expr =
  | AndExpr
  | OrExpr
  | NotExpr
  | ActionMatchesExpr
  | SubOperationMatchesExpr
  | ExistsExpr
  | CompareExpr;
