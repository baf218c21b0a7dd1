// Schema checks with ajv; a failure becomes an INVALID_ARGUMENT error naming the field at fault.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import * as grpc from '@grpc/grpc-js';
import { ApiError } from '../errors.js';

export class ValidationError extends ApiError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(grpc.status.INVALID_ARGUMENT, message);
  }
}

const ajv = new Ajv({ allErrors: false, strict: true, strictRequired: false, verbose: true });

/** "/devices/0/address" -> "devices[0].address" */
function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (child !== undefined) parts.push(child);
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function describe(e: ErrorObject, what: string): ValidationError {
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = fieldPath(e.instancePath, e.params.additionalProperty as string);
      return new ValidationError(field, `${what}: field "${field}" is not a known field`);
    }
    case 'required': {
      const field = fieldPath(e.instancePath, e.params.missingProperty as string);
      return new ValidationError(field, `${what}: field "${field}" is required`);
    }
    case 'oneOf': {
      const field = fieldPath(e.instancePath) || '(body)';
      const names = (e.schema as Array<{ required: string[] }>).flatMap((alt) => alt.required);
      return new ValidationError(names.join('|'), `${what}: give exactly one of the fields ${names.map((n) => `"${n}"`).join(', ')}${field === '(body)' ? '' : ` in "${field}"`}`);
    }
    case 'enum': {
      const field = fieldPath(e.instancePath);
      return new ValidationError(field, `${what}: field "${field}" must be one of ${(e.params.allowedValues as string[]).join(', ')}`);
    }
    case 'pattern': {
      const field = fieldPath(e.instancePath);
      const hint = (e.parentSchema as { description?: string } | undefined)?.description;
      return new ValidationError(field, `${what}: field "${field}" must be ${hint ?? `like ${e.params.pattern}`}`);
    }
    default: {
      const field = fieldPath(e.instancePath);
      if (!field) return new ValidationError('(body)', `${what}: the body must be a JSON ${e.keyword === 'type' ? e.params.type : `value that ${e.message}`}`);
      return new ValidationError(field, `${what}: field "${field}" ${e.message}`);
    }
  }
}

export type Validator<T> = (value: unknown) => T;

/** Compiles `schema`; the returned function throws a ValidationError or returns the value typed. */
export function validator<T>(schema: object, what: string): Validator<T> {
  const check: ValidateFunction = ajv.compile(schema);
  return (value: unknown) => {
    if (check(value)) return value as T;
    const errors = check.errors!;
    throw describe(errors.find((e) => e.keyword === 'oneOf') ?? errors[0], what);
  };
}
