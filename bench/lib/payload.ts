// The request every capture benchmark sends: a Portable-shaped `sync_end` event (keys in the
// article's order), padded through `details` to about 600 bytes, with Standard Webhooks
// headers as a real sender would set them.
import { createHmac } from 'node:crypto';

const event = {
  created: '2025-01-15T10:30:00Z',
  destination_id: 20481934117,
  destination_type: 'bigquery',
  details:
    'sync failed: source returned HTTP 401 Unauthorized (credentials expired). The connector ' +
    'retried 3 times with exponential backoff before giving up; 12,408 records were read and ' +
    '0 were written. Re-authorise the HubSpot CRM source in the Portable dashboard and start ' +
    'the flow again. Reference: run 3a9f0c2e-51b7-4d1e-9f3a-7c2d8e6b4a10, region us-east-1, ' +
    'worker pool standard-2.',
  event: 'sync_end',
  flow_id: 13574208653,
  run_attempt_id: 30671145890,
  source_id: 8127364510,
  source_type: 'hubspot_crm',
  status: 'FAILED',
};

export const PAYLOAD = Buffer.from(JSON.stringify(event));

const SECRET = Buffer.from('bench-secret-bench-secret-123456');
const MSG_ID = 'msg_2kD9sQw81LmZpX';
const TS = '1736937000';

export const PAYLOAD_HEADERS: Record<string, string> = {
  'content-type': 'application/json',
  'user-agent': 'Portable-Webhooks/1.0',
  'webhook-id': MSG_ID,
  'webhook-timestamp': TS,
  'webhook-signature': `v1,${createHmac('sha256', SECRET).update(`${MSG_ID}.${TS}.${PAYLOAD.toString()}`).digest('base64')}`,
};
