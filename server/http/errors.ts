// Errors the API answers with. Every one becomes `{ error: { code, message, field? } }`.
import type { ApiErrorBody, FieldError } from '../../shared/api.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Every bad field, for a 400 invalid_field (the first is `field`). */
    readonly fields?: FieldError[],
  ) {
    super(message);
  }
  toBody(): ApiErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.field ? { field: this.field } : {}),
        ...(this.fields ? { fields: this.fields } : this.field ? { fields: [{ field: this.field, message: this.message }] } : {}),
      },
    };
  }
}

export const invalid = (field: string, message: string) => new HttpError(400, 'invalid_field', `${field}: ${message}`, field, [{ field, message }]);
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);
