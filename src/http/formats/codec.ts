/** One interface over the two wire formats, chosen per request by content negotiation. */
import type { DataMap } from '../../core/index.js';
import type { Negotiation } from '../negotiation.js';
import {
  JSON_MEDIA_TYPE,
  readDataMapJson,
  readJobRequestJson,
  writeRequestInfoJson,
  writeRequestInfoListJson,
  writeScheduledIdJson,
  writeServerInfoJson,
} from './json.js';
import type { JobRequestInstance, KieServerInfo, RequestInfoInstance, WriteOptions } from './model.js';
import {
  readDataMapXml,
  readJobRequestXml,
  writeRequestInfoListXml,
  writeRequestInfoXml,
  writeScheduledIdXml,
  writeServerInfoXml,
  XML_MEDIA_TYPE,
} from './xml.js';

export interface Codec {
  /** The response's Content-Type. */
  mediaType: string;
  scheduledId(id: number): string;
  requestInfo(info: RequestInfoInstance): string;
  requestInfoList(list: readonly RequestInfoInstance[]): string;
  serverInfo(info: KieServerInfo): string;
  readJobRequest(body: string): JobRequestInstance;
  readDataMap(body: string): DataMap;
}

export function codecFor(negotiation: Negotiation, jsonDates: WriteOptions['jsonDates']): Codec {
  if (negotiation.format === 'xml') {
    return {
      mediaType: XML_MEDIA_TYPE,
      scheduledId: writeScheduledIdXml,
      requestInfo: writeRequestInfoXml,
      requestInfoList: writeRequestInfoListXml,
      serverInfo: writeServerInfoXml,
      readJobRequest: readJobRequestXml,
      readDataMap: readDataMapXml,
    };
  }
  const options: WriteOptions = { jsonDates, omitNulls: negotiation.omitNulls, strict: negotiation.strict };
  return {
    mediaType: JSON_MEDIA_TYPE,
    scheduledId: (id) => writeScheduledIdJson(id, options),
    requestInfo: (info) => writeRequestInfoJson(info, options),
    requestInfoList: (list) => writeRequestInfoListJson(list, options),
    serverInfo: (info) => writeServerInfoJson(info, options),
    readJobRequest: readJobRequestJson,
    readDataMap: readDataMapJson,
  };
}
