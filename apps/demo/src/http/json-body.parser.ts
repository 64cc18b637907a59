import { BadRequestException } from '@nestjs/common';

/** No body of this gateway nests deeper than 4; 32 leaves room and keeps validation's recursion shallow. */
export const MAX_JSON_DEPTH = 32;

/** Keys that address an object's prototype machinery: never data, and a prototype-pollution vector if merged. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses a JSON request body, refusing with a 400 that says why: malformed JSON, nesting beyond `MAX_JSON_DEPTH`
 * (checked on the text, before anything recursive sees it) and prototype keys anywhere.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new BadRequestException('the body is empty; send a JSON object');
  checkDepth(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadRequestException(`the body is not valid JSON: ${(error as Error).message}`);
  }
  checkKeys(value, '$');
  return value;
}

function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new BadRequestException(`the body nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`);
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
}

function checkKeys(value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkKeys(item, `${path}[${i}]`));
    return;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) {
      throw new BadRequestException(`the body may not use the key "${key}" (at ${path}); remove it`);
    }
    checkKeys((value as Record<string, unknown>)[key], `${path}.${key}`);
  }
}
