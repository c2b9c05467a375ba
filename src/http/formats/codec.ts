/** One interface over the two wire formats, chosen per request by content negotiation. */
import type { DataMap } from '../../core/index.js';
import type { Negotiation } from '../negotiation.js';
import {
  JSON_MEDIA_TYPE,
  readDataMapJson,
  readJobRequestJson,
  readJobRequestListJson,
  writeRequestInfoJson,
  writeRequestInfoListJson,
  writeRequestInfoListJsonInChunks,
  writeScheduledIdJson,
  writeScheduledIdsJson,
  writeServerInfoJson,
  writeMessagesJson,
  writeContainerListJson,
  writeContainerJson,
} from './json.js';
import type {
  JobRequestInstance,
  KieContainerResource,
  KieMessage,
  KieServerInfo,
  RequestInfoInstance,
  WriteOptions,
} from './model.js';
import {
  readDataMapXml,
  readJobRequestListXml,
  readJobRequestXml,
  writeRequestInfoListXml,
  writeRequestInfoListXmlInChunks,
  writeRequestInfoXml,
  writeScheduledIdXml,
  writeScheduledIdsXml,
  writeServerInfoXml,
  writeMessagesXml,
  writeContainerListXml,
  writeContainerXml,
  XML_MEDIA_TYPE,
} from './xml.js';

export interface Codec {
  /** The response's Content-Type. */
  mediaType: string;
  scheduledId(id: number): string;
  /** The answer of a batch (a kjobs extension). */
  scheduledIds(ids: readonly number[]): string;
  requestInfo(info: RequestInfoInstance): string;
  requestInfoList(list: readonly RequestInfoInstance[]): string;
  /** The same, written in chunks with the event loop let go in between (large pages). */
  requestInfoListInChunks(list: readonly RequestInfoInstance[]): Promise<string>;
  serverInfo(info: KieServerInfo): string;
  /** A bare list of KIE messages (the health report). */
  messages(messages: readonly KieMessage[]): string;
  containerList(containers: readonly KieContainerResource[]): string;
  container(container: KieContainerResource): string;
  readJobRequest(body: string): JobRequestInstance;
  readJobRequestList(body: string): JobRequestInstance[];
  readDataMap(body: string): DataMap;
}

/** Lets other requests' callbacks run (setImmediate: after pending I/O). */
const letOthersRun = () => new Promise<void>((resolve) => setImmediate(resolve));

export function codecFor(negotiation: Negotiation, jsonDates: WriteOptions['jsonDates']): Codec {
  if (negotiation.format === 'xml') {
    return {
      mediaType: XML_MEDIA_TYPE,
      scheduledId: writeScheduledIdXml,
      scheduledIds: writeScheduledIdsXml,
      requestInfo: writeRequestInfoXml,
      requestInfoList: writeRequestInfoListXml,
      requestInfoListInChunks: (list) => writeRequestInfoListXmlInChunks(list, letOthersRun),
      serverInfo: writeServerInfoXml,
      messages: writeMessagesXml,
      containerList: writeContainerListXml,
      container: writeContainerXml,
      readJobRequest: readJobRequestXml,
      readJobRequestList: readJobRequestListXml,
      readDataMap: readDataMapXml,
    };
  }
  const options: WriteOptions = { jsonDates, omitNulls: negotiation.omitNulls, strict: negotiation.strict };
  return {
    mediaType: JSON_MEDIA_TYPE,
    scheduledId: (id) => writeScheduledIdJson(id, options),
    scheduledIds: writeScheduledIdsJson,
    requestInfo: (info) => writeRequestInfoJson(info, options),
    requestInfoList: (list) => writeRequestInfoListJson(list, options),
    requestInfoListInChunks: (list) => writeRequestInfoListJsonInChunks(list, options, letOthersRun),
    serverInfo: (info) => writeServerInfoJson(info, options),
    messages: (messages) => writeMessagesJson(messages, options),
    containerList: (containers) => writeContainerListJson(containers, options),
    container: (container) => writeContainerJson(container, options),
    readJobRequest: readJobRequestJson,
    readJobRequestList: readJobRequestListJson,
    readDataMap: readDataMapJson,
  };
}
