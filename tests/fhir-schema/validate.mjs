// validate.mjs - checks FHIR JSON files against the official FHIR R4 JSON
// schema (fhir.schema.json, 4.0.1) with Ajv.
//
// Why: the issue requires that every resource RHIS returns is valid R4.
// tests/fhir-schema/run.sh saves every application/fhir+json response of the
// API suite and runs this over them.  The whole document is validated
// against the schema's root (the discriminated union of all resources), so a
// Bundle's entries and contained resources are validated too.  When a file
// fails, the errors are recomputed against the resource's own definition and,
// where a nested resource (Bundle.entry.resource, contained) is at fault,
// against that resource's definition, so the report names the element
// ("/entry/2/resource/birthDate: must match pattern ...") rather than
// "must match exactly one schema in oneOf" 146 times.
//
// Usage: node validate.mjs SCHEMA FILE_OR_DIR...   (*.json, *.ndjson)
// Prints one block per invalid resource and a last line
// "fhir-schema: N valid, N invalid"; exit status 1 if any resource is
// invalid or none was found, 2 on a usage error.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Ajv = require('ajv');
const draft06 = require('ajv/dist/refs/json-schema-draft-06.json');

const MAX_ERRORS = 12; // per file: the first few name the fault

function usage() {
  process.stderr.write('usage: node validate.mjs SCHEMA FILE_OR_DIR...\n');
  process.exit(2);
}

function listFiles(args) {
  const out = [];
  for (const a of args) {
    const st = fs.statSync(a);
    if (st.isDirectory()) {
      for (const f of fs.readdirSync(a).sort())
        if (f.endsWith('.json') || f.endsWith('.ndjson'))
          out.push(path.join(a, f));
    } else {
      out.push(a);
    }
  }
  return out;
}

function valueAt(doc, pointer) {
  let v = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object') return undefined;
    v = v[k];
  }
  return v;
}

class FhirSchema {
  constructor(schemaPath) {
    const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
    this.types = schema.discriminator.mapping;
    // The schema declares draft-06 but names itself with draft-04's "id",
    // which Ajv 8 refuses: it is the same URI as "$id" (no "#/definitions"
    // reference depends on it).  strict: false lets Ajv ignore the OpenAPI
    // "discriminator" keyword (the oneOf it annotates does the work).
    if (schema.id !== undefined && schema.$id === undefined) {
      schema.$id = schema.id;
      delete schema.id;
    }
    this.id = schema.$id;
    this.ajv = new Ajv({ strict: false, allErrors: true, logger: false });
    this.ajv.addMetaSchema(draft06);
    this.ajv.addSchema(schema);
    this.root = this.ajv.getSchema(this.id);
    this.byType = new Map();
  }

  typeValidator(type) {
    if (!this.byType.has(type))
      this.byType.set(type,
        this.ajv.getSchema(`${this.id}#/definitions/${type}`));
    return this.byType.get(type);
  }

  // Errors of resource (at pointer `base` of the file) against its own
  // type's definition; oneOf failures over ResourceList are replaced by the
  // errors of the nested resource against its own definition.
  explain(resource, base, depth = 0) {
    const type = resource && resource.resourceType;
    if (typeof type !== 'string' || !this.types[type])
      return [`${base || '/'}: resourceType ${JSON.stringify(type)} is not ` +
              'an R4 resource type'];
    const v = this.typeValidator(type);
    if (v(resource)) return [];
    // A nested resource (Bundle.entry.resource, contained) that fails shows
    // as a oneOf error over the resource union plus the errors of every
    // branch; keep only the oneOf paths and explain those resources alone.
    const nested = [...new Set(v.errors
      .filter((e) => e.keyword === 'oneOf' &&
        typeof valueAt(resource, e.instancePath)?.resourceType === 'string')
      .map((e) => e.instancePath))].sort();
    const inside = (p) => nested.some((q) => p === q || p.startsWith(q + '/'));
    const out = [];
    for (const e of v.errors) {
      if (inside(e.instancePath)) continue;
      const extra = e.keyword === 'additionalProperties'
        ? ` (${e.params.additionalProperty})`
        : e.keyword === 'enum'
          ? ` (${e.params.allowedValues.join(', ')})`
          : '';
      out.push(`${base + e.instancePath || '/'}: ${e.message}${extra}`);
    }
    for (const p of nested) {
      // the outermost failing resource; its own explanation recurses
      if (nested.some((q) => q !== p && p.startsWith(q + '/'))) continue;
      if (depth < 8)
        out.push(...this.explain(valueAt(resource, p), base + p, depth + 1));
    }
    return out;
  }
}

// The documents of a file: a .ndjson file holds one resource per line
// (bulk export), named FILE:LINE; anything else is one JSON document.
function documents(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (!file.endsWith('.ndjson')) return [{ name: file, text }];
  return text.split('\n')
    .map((line, i) => ({ name: `${file}:${i + 1}`, text: line }))
    .filter((d) => d.text.trim() !== '');
}

function main() {
  const args = process.argv.slice(2);
  if (args.length < 2) usage();
  const fhir = new FhirSchema(args[0]);
  let ok = 0;
  let bad = 0;
  for (const f of listFiles(args.slice(1))) {
    for (const { name, text } of documents(f)) {
      let doc;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        bad++;
        process.stdout.write(`INVALID ${name}\n  not JSON: ${e.message}\n`);
        continue;
      }
      if (fhir.root(doc)) {
        ok++;
        continue;
      }
      bad++;
      let why = fhir.explain(doc, '');
      if (why.length === 0) // valid as its type, not against the union
        why = fhir.root.errors.map((e) =>
          `${e.instancePath || '/'}: ${e.message}`);
      const more = why.length > MAX_ERRORS
        ? [`... and ${why.length - MAX_ERRORS} more`]
        : [];
      process.stdout.write(`INVALID ${name} (${doc?.resourceType})\n` +
        why.slice(0, MAX_ERRORS).concat(more).map((l) => `  ${l}\n`)
          .join(''));
    }
  }
  process.stdout.write(`fhir-schema: ${ok} valid, ${bad} invalid\n`);
  process.exit(bad > 0 || ok === 0 ? 1 : 0);
}

main();
