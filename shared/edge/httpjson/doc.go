// Package httpjson is what the HTTP edges (httpapi, trigger, telegrambot) share to speak JSON: the
// error body every function answers with, decoding of request bodies, and the one answer to a body
// over the limit. It holds no mapping of domain errors to statuses: each edge does that once.
//
//   - WriteJSON(w, status, v) answers v as JSON (a value that cannot be encoded yields a 500, never
//     half a body); WriteError(w, status, msg, field) answers {"error": msg, "field": field}, the field
//     left out when empty.
//   - DecodeJSON(body, &dst, limit) decodes exactly one JSON object into dst, strictly: unknown fields,
//     case variants of known ones, a name given twice and invalid UTF-8 are refused;
//     its errors are *stockalert.ValidationError naming the JSON field (as a dotted path) or "body",
//     or ErrBodyTooLarge.
//   - ReadBody(w, r, limit) reads a raw body for edges that decode it themselves, with the same
//     ErrBodyTooLarge.
//   - ErrBodyTooLarge is the runtime's faas.ErrBodyTooLarge; the errors that carry it are
//     *faas.BodyTooLargeError, whose text is the one 413 text. WriteBodyTooLarge(w, err) is the one
//     answer to it: 413 {"error": "request body too large: larger than N bytes", "field": "body"},
//     the same body the runtime answers when the declared Content-Length is over max_body_bytes.
package httpjson
