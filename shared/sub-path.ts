// A capture's sub-path, as it is joined to a forward target's path. No zod here: the server's
// forwarding code and the API schema both use it.

/**
 * Whether a sub-path has a "." or ".." segment as some reader of it would see one: spelt %2e
 * (or %252e, for a server that decodes twice), split by %2f or a backslash (which URL parsers
 * and many servers read as "/"), with tabs or line breaks inside (the URL parser drops them
 * before it resolves dots), or followed by ";params" (Tomcat, Jetty and Spring drop those,
 * then resolve: "..;" is ".."; "%3b" too), in the spellings other decoders take for a dot (IIS's
 * %u002e, overlong UTF-8, full-width stops), or with a NUL or a space after it. Joined to a target's path, such a segment climbs out of it:
 * `/hooks` + `/../admin` is `/admin`, so anyone who knows a bin's URL could reach any path of
 * the developer's app (and read its answer, in proxy mode). No sender's webhook path has one,
 * so such captures are not sent on at all.
 */
export function hasDotSegment(path: string): boolean {
  // The common case (no dot, nothing encoded) costs two scans.
  if (!path.includes('.') && !path.includes('%')) return false;
  // %25 undone as often as a server might decode (%25252e is %2e to one decoding twice more).
  let plain = path;
  for (let i = 0; i < 4 && /%25/i.test(plain); i++) plain = plain.replace(/%25/gi, '%');
  plain = plain
    .replace(/[\t\n\r]/g, '')
    // Dots as other decoders spell them: IIS's %u, overlong UTF-8, full-width and ideographic full stops.
    .replace(/%u002e|%c0%ae|%e0%80%ae|%ef%bc%8e|%e3%80%82/gi, '.')
    .replace(/%2e/gi, '.')
    .replace(/%2f|%5c|%u002f|%u005c|%c0%af/gi, '/')
    .replace(/%3b/gi, ';')
    // A NUL, space or tab after the dots: some servers cut or trim the segment there.
    .replace(/%00|%09|%20|%0a|%0d/gi, ' ');
  return plain.split(/[/\\]/).some((seg) => {
    const bare = seg.split(';', 1)[0].trim();
    return bare === '.' || bare === '..';
  });
}

export const DOT_SEGMENT_REASON = 'has a dot segment ("." or "..", maybe percent-encoded), which could reach beyond the target\'s path';
