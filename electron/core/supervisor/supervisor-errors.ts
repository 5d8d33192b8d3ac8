// Expected failures of the supervisor: AppErrors (docs/style-guide.md §7) so dispatch turns them into
// envelopes with their code. Layer: core.
import { AppError, type ErrorCode } from '../../../shared/api/envelope';

export type SupervisorErrorCode = Extract<
  ErrorCode,
  'PORT_IN_USE' | 'WORKER_NOT_FOUND' | 'WORKER_START_FAILED' | 'CONFIG_INVALID'
>;

export class SupervisorError extends AppError {
  constructor(
    code: SupervisorErrorCode,
    message: string,
    details?: Record<string, string | number | boolean | null>,
  ) {
    super(code, message, details);
    this.name = 'SupervisorError';
  }
}
