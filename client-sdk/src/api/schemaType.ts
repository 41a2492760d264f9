/**
 * The TypeScript type a JSON Schema of the route table describes, computed
 * by the type checker from the `as const` schema itself (nothing at run
 * time). Covers the subset routes.ts uses: `type` (one or several),
 * `properties` with `required`, `items`, `oneOf` / `anyOf`, `const`, `enum`,
 * and open objects (`additionalProperties: true`). types.ts keeps the
 * readable names and doc comments; schemaTypes.check.ts makes the checker
 * prove that each of its types and the schema it answers are the same, so
 * the two cannot drift.
 */

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type TypeName = "string" | "integer" | "number" | "boolean" | "object" | "array" | "null";

type FromObject<S> = S extends { readonly properties: infer P }
  ? Simplify<
      {
        -readonly [K in keyof P as K extends RequiredOf<S> ? K : never]: FromSchema<P[K]>;
      } & {
        -readonly [K in keyof P as K extends RequiredOf<S> ? never : K]?: FromSchema<P[K]>;
      }
    >
  : S extends { readonly additionalProperties: true }
    ? Record<string, unknown>
    : Record<string, never>;

type RequiredOf<S> = S extends { readonly required: readonly (infer R)[] } ? R : never;

type FromType<S, T extends TypeName> = T extends "string"
  ? string
  : T extends "integer" | "number"
    ? number
    : T extends "boolean"
      ? boolean
      : T extends "null"
        ? null
        : T extends "array"
          ? S extends { readonly items: infer I }
            ? FromSchema<I>[]
            : unknown[]
          : FromObject<S>;

export type FromSchema<S> = S extends { readonly const: infer C }
  ? C
  : S extends { readonly enum: readonly (infer E)[] }
    ? E
    : S extends { readonly oneOf: readonly (infer O)[] }
      ? O extends unknown
        ? FromSchema<O>
        : never
      : S extends { readonly anyOf: readonly (infer O)[] }
        ? O extends unknown
          ? FromSchema<O>
          : never
        : S extends { readonly type: infer T }
          ? T extends TypeName
            ? FromType<S, T>
            : T extends readonly (infer U extends TypeName)[]
              ? U extends unknown
                ? FromType<S, U>
                : never
              : unknown
          : unknown;

/** True when A and B are the same type (as the checker sees them). */
export type Same<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
