import { BadRequestException, Param, PipeTransform } from '@nestjs/common';

/** BullMQ job ids we issue: UUIDs and names such as `run-cron:midnight-sync:202501010000`. */
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,254}$/;

class JobIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!JOB_ID.test(value)) {
      throw new BadRequestException(
        'id must be a job id: up to 255 letters, digits, ":", ".", "_" or "-"',
      );
    }
    return value;
  }
}

/** A job id route parameter (a `job_runs` id or a BullMQ job id); 400 when malformed. */
export const JobIdParam = (name = 'id'): ParameterDecorator => Param(name, new JobIdPipe());
