import { SetMetadata } from '@nestjs/common';

export const ALLOWED_DURING_DELETION_KEY = 'account:allowed-during-deletion';

/**
 * Lets a mutating route (POST/PATCH/PUT/DELETE) run while the caller's account waits for
 * deletion: signing out, exporting, and requesting or cancelling the deletion. Reads (GET, HEAD)
 * need no marking. Everything else answers 403 during the grace period (AccountDeletionGuard).
 */
export const AllowedDuringDeletion = () => SetMetadata(ALLOWED_DURING_DELETION_KEY, true);
