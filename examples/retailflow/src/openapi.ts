import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/** One validation failure: where (a JSON pointer into the validated value) and what was expected. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/** The subset of an OpenAPI 3.1 document RetailFlow reads. */
export interface OpenApiDocument {
  readonly openapi: string;
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  readonly components: { readonly schemas: Readonly<Record<string, unknown>> };
}

/** Reads `examples/retailflow/openapi.json` (the same relative path works from `src/` and `dist/`). */
export function loadOpenApiDocument(): OpenApiDocument {
  return JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')) as OpenApiDocument;
}

const SCHEMA_ID = 'https://ballast.dev/retailflow/openapi.json';

function issues(errors: readonly ErrorObject[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (\`${String((e.params as { additionalProperty?: string }).additionalProperty)}\`)`
        : '';
    return {
      path: e.instancePath === '' ? '/' : e.instancePath,
      message: `${e.message ?? 'is invalid'}${extra}`,
    };
  });
}

/**
 * JSON Schema 2020-12 validation of values against the schemas of RetailFlow's OpenAPI document. OpenAPI 3.1
 * schemas are plain 2020-12 schemas, so the document's `components.schemas` are compiled as `$defs` of one
 * schema. The API validates request bodies with it; the contract test validates real responses too.
 *
 * @example
 * ```ts
 * const schemas = new OpenApiSchemas(loadOpenApiDocument());
 * schemas.validate('CreateOrderRequest', { items: [] }); // [{ path: '/items', message: 'must NOT have fewer than 1 items' }]
 * ```
 */
export class OpenApiSchemas {
  readonly document: OpenApiDocument;
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(document: OpenApiDocument) {
    this.document = document;
    this.#ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: false });
    const defs = JSON.parse(
      JSON.stringify(document.components.schemas).replaceAll(
        '"#/components/schemas/',
        `"${SCHEMA_ID}#/$defs/`,
      ),
    ) as Record<string, unknown>;
    this.#ajv.addSchema({ $id: SCHEMA_ID, $defs: defs });
  }

  /** Validates `value` against `#/components/schemas/<name>`; returns the issues (empty when valid). */
  validate(name: string, value: unknown): ValidationIssue[] {
    return this.validateRef(`#/components/schemas/${name}`, value);
  }

  /** Validates `value` against an inline schema of the document (a `$ref` to a component or a literal schema). */
  validateSchema(schema: unknown, value: unknown): ValidationIssue[] {
    if (typeof schema === 'object' && schema !== null && '$ref' in schema) {
      return this.validateRef(String(schema.$ref), value);
    }
    const key = JSON.stringify(schema);
    let validate = this.#compiled.get(key);
    if (!validate) {
      const rewritten = JSON.parse(
        key.replaceAll('"#/components/schemas/', `"${SCHEMA_ID}#/$defs/`),
      ) as object;
      validate = this.#ajv.compile(rewritten);
      this.#compiled.set(key, validate);
    }
    return validate(value) ? [] : issues(validate.errors);
  }

  validateRef(ref: string, value: unknown): ValidationIssue[] {
    const prefix = '#/components/schemas/';
    if (!ref.startsWith(prefix))
      throw new TypeError(`Expected \`ref\` to start with ${prefix}, got \`${ref}\``);
    let validate = this.#compiled.get(ref);
    if (!validate) {
      validate = this.#ajv.getSchema(`${SCHEMA_ID}#/$defs/${ref.slice(prefix.length)}`);
      if (!validate) throw new TypeError(`No schema ${ref} in the OpenAPI document`);
      this.#compiled.set(ref, validate);
    }
    return validate(value) ? [] : issues(validate.errors);
  }
}
