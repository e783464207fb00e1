import fs from 'node:fs';
import path from 'node:path';

/**
 * The real edX sample lines of `../shared/fixtures/` (read-only, AGPL test data of other
 * projects: never copied into this repository). Tests that use them skip when the folder is
 * absent.
 */
export const TRACKING_FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/edx-analytics-pipeline/tracking');
export const hasTrackingFixtures = fs.existsSync(TRACKING_FIXTURES);
