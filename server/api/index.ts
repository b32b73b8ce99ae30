// Every API router, in one place: the app mounts them under /api, and the OpenAPI test walks
// them to check each route is documented.
import type { Router } from 'express';
import { binsRouter } from './bins.ts';
import type { ApiContext } from './context.ts';
import { dispatchRouter } from './dispatch.ts';
import { forwardRouter } from './forward.ts';
import { requestsRouter } from './requests.ts';
import { responseRouter } from './response.ts';
import { timelineRouter } from './timeline.ts';
import { verifyRouter } from './verify.ts';
import { webhooksRouter } from './webhooks.ts';

export function apiRouters(ctx: ApiContext): Router[] {
  return [binsRouter(ctx), requestsRouter(ctx), responseRouter(ctx), forwardRouter(ctx), verifyRouter(ctx), webhooksRouter(ctx), dispatchRouter(ctx), timelineRouter(ctx)];
}
