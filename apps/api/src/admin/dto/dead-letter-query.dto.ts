import { AdminPageQueryDto } from './admin-page.dto';

/** `GET /admin/dead-letter`: offset pages only. */
export class DeadLetterQueryDto extends AdminPageQueryDto {}
