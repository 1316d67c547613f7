import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { EspConnection } from './esp-connection.entity';
import { SubscriberStatus } from './subscriber.entity';

/**
 * How many `subscribers` rows a connection holds in one status, kept exact by Postgres itself:
 * statement-level triggers on `subscribers` (migration CreateSubscriberCounts1796800000000) add
 * each statement's inserted, updated and deleted rows, aggregated per (connection, status), in
 * the same transaction as the change. No application code writes this table; the list routes
 * read their totals from it instead of a `count(*)` per request. A connection's rows go with it
 * (cascade); a status with no subscribers may keep a row at 0.
 */
@Entity({ name: 'subscriber_counts' })
export class SubscriberCount {
  @PrimaryColumn({
    name: 'esp_connection_id',
    type: 'uuid',
    primaryKeyConstraintName: 'subscriber_counts_pkey',
  })
  espConnectionId: string;

  @ManyToOne(() => EspConnection, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'esp_connection_id',
    foreignKeyConstraintName: 'subscriber_counts_esp_connection_id_fkey',
  })
  espConnection?: EspConnection;

  @PrimaryColumn({
    type: 'varchar',
    length: 16,
    primaryKeyConstraintName: 'subscriber_counts_pkey',
  })
  status: SubscriberStatus;

  @Column({ type: 'integer', default: 0 })
  count: number;
}
