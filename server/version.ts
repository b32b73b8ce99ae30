// hooklab's version, as the health endpoint, the OpenAPI document and exports say it.
export const VERSION = '0.1.0';
