import type { Expr, Literal, Operand } from './ast.js';

/**
 * Prints an AST as a one-line condition that parses back to the same AST (canonical casing, GUIDs dashed).
 * Nested AND/OR operands and every NOT operand are parenthesised, which is both unambiguous and what Azure's own
 * `((!(ActionMatches{…})) OR (…))` shape looks like.
 */
export function formatCondition(expr: Expr): string {
  switch (expr.kind) {
    case 'and':
    case 'or':
      return expr.operands.map(formatOperandExpr).join(expr.kind === 'and' ? ' AND ' : ' OR ');
    case 'not':
      return `!(${formatCondition(expr.operand)})`;
    case 'actionMatches':
      return `ActionMatches{${quote(expr.pattern)}}`;
    case 'subOperationMatches':
      return `SubOperationMatches{${quote(expr.pattern)}}`;
    case 'exists':
      return `Exists ${formatOperand(expr.attribute)}`;
    case 'compare': {
      const { quantifier, name } = expr.operator;
      const op = quantifier === undefined ? name : `${quantifier}:${name}`;
      return `${formatOperand(expr.left)} ${op} ${formatOperand(expr.right)}`;
    }
  }
}

function formatOperandExpr(e: Expr): string {
  return e.kind === 'and' || e.kind === 'or' ? `(${formatCondition(e)})` : formatCondition(e);
}

function formatOperand(o: Operand): string {
  switch (o.kind) {
    case 'attribute':
      return `@${o.source}[${o.name}]`;
    case 'set':
      return `{${o.items.map(formatLiteral).join(', ')}}`;
    default:
      return formatLiteral(o);
  }
}

function formatLiteral(l: Literal): string {
  switch (l.kind) {
    case 'string':
      return quote(l.value);
    case 'number':
      return l.value.toString();
    case 'guid':
      return l.value;
    case 'bool':
      return l.value ? 'true' : 'false';
  }
}

/** Inverse of the lexer's string rule: only `\` and `'` need escaping. */
function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
