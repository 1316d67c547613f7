import { projectFields, projectionKeeps } from './field-projection';

const body = {
  members: [
    { id: 'a', status: 'subscribed', merge_fields: { FNAME: 'Ada', LNAME: 'L' } },
    { id: 'b', status: 'cleaned', merge_fields: { FNAME: 'Ben', LNAME: 'M' } },
  ],
  list_id: 'l1',
  total_items: 2,
};

describe('Mailchimp field projection', () => {
  it('keeps only the named dot paths, through arrays', () => {
    expect(projectFields(body, 'members.id,members.merge_fields.FNAME,total_items')).toEqual({
      members: [
        { id: 'a', merge_fields: { FNAME: 'Ada' } },
        { id: 'b', merge_fields: { FNAME: 'Ben' } },
      ],
      total_items: 2,
    });
    expect(projectFields(body, 'total_items')).toEqual({ total_items: 2 });
  });

  it('drops the excluded paths', () => {
    expect(projectFields(body, undefined, 'members.merge_fields,list_id')).toEqual({
      members: [
        { id: 'a', status: 'subscribed' },
        { id: 'b', status: 'cleaned' },
      ],
      total_items: 2,
    });
  });

  it('tells whether members are needed at all', () => {
    expect(projectionKeeps('members', 'total_items')).toBe(false);
    expect(projectionKeeps('members', 'members.id')).toBe(true);
    expect(projectionKeeps('members', undefined, 'members')).toBe(false);
    expect(projectionKeeps('members')).toBe(true);
  });
});
