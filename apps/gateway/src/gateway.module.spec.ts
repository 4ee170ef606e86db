import { ConsoleModule } from './console/console.module';
import { CommonModule } from './common/common.module';
import { DeadlinesModule } from './deadlines/deadlines.module';
import { EgressModule } from './egress/egress.module';
import { modulesFor } from './gateway.module';
import { HealthModule } from './health/health.module';
import { IngressModule } from './ingress/ingress.module';
import { ReportsModule } from './reports/reports.module';
import { ReportSummaryModule } from './reports/report-summary.module';
import { RouterModule } from './router/router.module';
import { PoisonModule } from './sweeper/poison.module';
import { SweeperModule } from './sweeper/sweeper.module';

describe('the modules of a process (SVU_SERVICES)', () => {
  const every = [CommonModule, HealthModule, PoisonModule];

  it('runs only what its services bring, beside what every process runs', () => {
    expect(modulesFor(['ingress'])).toEqual([...every, IngressModule]);
    expect(modulesFor(['console'])).toEqual([...every, ConsoleModule, ReportsModule, ReportSummaryModule]);
    expect(modulesFor(['router'])).toEqual([...every, RouterModule, SweeperModule]);
  });

  it('brings the sweeper once however many pipeline services the process runs', () => {
    const modules = modulesFor(['router', 'egress', 'deadlines']);
    expect(modules.filter((m) => m === SweeperModule)).toHaveLength(1);
    expect(modules).toEqual([...every, RouterModule, SweeperModule, EgressModule, DeadlinesModule, ReportSummaryModule]);
  });

  it('runs every service module by default', () => {
    expect(new Set(modulesFor(['ingress', 'router', 'egress', 'deadlines', 'console']))).toEqual(
      new Set([...every, IngressModule, RouterModule, SweeperModule, EgressModule, DeadlinesModule, ConsoleModule, ReportsModule, ReportSummaryModule]),
    );
  });
});
