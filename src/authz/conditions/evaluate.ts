import type { AttributeRef, CompareExpr, Expr, Literal, Operand } from './ast.js';
import { lookupAttribute, valuesOf } from './attributes.js';
import { compileActionPattern, foldCase, globMatch } from './glob.js';
import type { Comparable, Family, Values } from './operators.js';
import { applyOperator, COERCE, operatorSpec } from './operators.js';
import type { ConditionContext } from './context.js';

export type Predicate = (ctx: ConditionContext) => boolean;

/**
 * Turns an AST into a closure once, so per-request evaluation does no parsing, pattern compilation or literal
 * coercion. Evaluation never throws: anything unreadable is a failed comparison.
 */
export function compileExpr(expr: Expr): Predicate {
  switch (expr.kind) {
    case 'and': {
      const parts = expr.operands.map(compileExpr);
      return (ctx) => parts.every((p) => p(ctx));
    }
    case 'or': {
      const parts = expr.operands.map(compileExpr);
      return (ctx) => parts.some((p) => p(ctx));
    }
    case 'not': {
      const inner = compileExpr(expr.operand);
      return (ctx) => !inner(ctx);
    }
    case 'actionMatches': {
      const tokens = compileActionPattern(expr.pattern);
      return (ctx) => typeof ctx.action === 'string' && globMatch(tokens, foldCase(ctx.action));
    }
    case 'subOperationMatches': {
      // No suboperation (a plain blob read) matches nothing, which is what makes Azure's
      // `!(ActionMatches{…/blobs/read} AND NOT SubOperationMatches{'Blob.List'})` target plain reads.
      const tokens = compileActionPattern(expr.pattern);
      return (ctx) => typeof ctx.subOperation === 'string' && globMatch(tokens, foldCase(ctx.subOperation));
    }
    case 'exists': {
      const attribute = expr.attribute;
      return (ctx) => resolveAttribute(ctx, attribute) !== undefined;
    }
    case 'compare':
      return compileCompare(expr);
  }
}

function compileCompare(expr: CompareExpr): Predicate {
  const spec = operatorSpec(expr.operator.name);
  const quantifier = expr.operator.quantifier;
  const left = compileOperand(expr.left, spec.family);
  const right = compileOperand(expr.right, spec.family);
  return (ctx) => {
    const l = left(ctx);
    if (l === undefined) return false;
    const r = right(ctx);
    if (r === undefined) return false;
    return applyOperator(spec, quantifier, l, r);
  };
}

/** Returns the operand's coerced values, or undefined when it is an absent attribute. */
function compileOperand(operand: Operand, family: Family): (ctx: ConditionContext) => Values | undefined {
  const coerce = COERCE[family];
  if (operand.kind === 'attribute') {
    return (ctx) => {
      const raw = resolveAttribute(ctx, operand);
      return raw === undefined ? undefined : valuesOf(raw).map(coerce);
    };
  }
  // Literals were type-checked by the parser; coercing them here gives the same representation as attributes.
  const items = operand.kind === 'set' ? operand.items : [operand];
  const values: (Comparable | undefined)[] = items.map((item: Literal) => coerce(item.value));
  return () => values;
}

function resolveAttribute(ctx: ConditionContext, ref: AttributeRef): unknown {
  switch (ref.source) {
    case 'Resource':
      return lookupAttribute(ctx.resource, ref.name);
    case 'Request':
      return lookupAttribute(ctx.request, ref.name);
    case 'Principal':
      return lookupAttribute(ctx.principal, ref.name);
    case 'Environment': {
      const v = lookupAttribute(ctx.environment, ref.name);
      // UtcNow always exists in Azure; callers that do not pin it (tests, a clock) get the real time.
      if (v === undefined && ref.name.toLowerCase() === 'utcnow') return new Date();
      return v;
    }
  }
}
