import { CreateInitialSchema1795480841726 } from './1795480841726-create-initial-schema';

/** Every migration, in order (listed, not globbed, so dist and tests load the same set). */
export const MIGRATIONS = [CreateInitialSchema1795480841726];
