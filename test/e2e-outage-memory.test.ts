// End to end (issue 3): logging 1,000,000 events while the Postgres sink is unreachable grows the resident set of
// the logging process by less than 50 MB: the journal holds the backlog, not memory.
import { expect } from 'chai';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runTs } from './helpers/node';
import { tempDir } from './helpers/tmp';

const FIXTURE = join(__dirname, 'fixtures', 'e2e-outage-memory.ts');

/** A port on 127.0.0.1 with nothing listening (connections are refused). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface OutageReport {
  count: number;
  growthBytes: number;
  delivered: number;
  failed: number;
  lag: number;
  state: string;
}

describe('end to end: memory during a remote outage', function () {
  this.timeout(240_000);

  it('logs 1,000,000 events with the Postgres sink down, growing RSS by less than 50 MB and keeping every event', async () => {
    const { code, stdout, stderr } = await runTs(FIXTURE, [tempDir('auditrail-outage-'), '1000000', String(await closedPort())]);
    expect(code, stderr).to.equal(0);
    const report = JSON.parse(stdout.trim().split('\n').pop()!) as OutageReport;
    expect(report.count).to.equal(1_000_000);
    expect(report.delivered, 'the sink really was down').to.equal(0);
    expect(report.failed).to.be.greaterThan(0);
    expect(report.state).to.be.oneOf(['retrying', 'isolated']);
    expect(report.lag, 'every event still waits for delivery: none dropped').to.be.at.least(1_000_000);
    expect(report.growthBytes / 2 ** 20, 'RSS growth in MB').to.be.below(50);
  });
});
