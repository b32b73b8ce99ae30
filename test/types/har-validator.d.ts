// har-validator ships no types; the tests use its promise API only.
declare module 'har-validator' {
  const hv: { har(doc: unknown): Promise<boolean> };
  export default hv;
}
