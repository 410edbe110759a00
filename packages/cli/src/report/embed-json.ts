// JSON that is safe inside an HTML <script> element: no "</script>", no "<!--", and no U+2028/2029.

const UNSAFE = /[<>&\u2028\u2029]/g;

/**
 * JSON text of a value with <, >, & and the line/paragraph separators written as \u escapes.
 * These characters only occur inside JSON strings, where the escape means the same thing, so
 * the text still parses to the same value while the HTML parser can never see a closing tag.
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('jsonForScript: the value has no JSON form');
  return json.replace(UNSAFE, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Text escaped for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
