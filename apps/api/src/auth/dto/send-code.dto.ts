import { EmailField } from './email-field.decorator';

export class SendCodeDto {
  @EmailField()
  email: string;
}
